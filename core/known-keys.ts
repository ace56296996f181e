/**
 * Unknown keys in user input, found by walking the raw input against a zod schema's shape.
 * Zod's plain objects drop keys they do not know, so a typo (`aproval:`, `monitoring.intervall`)
 * used to validate and silently fall back to a default. One walker covers every nested schema
 * (policies, alerts, the sweep) without making each of them strict, and suggests the key the
 * user probably meant.
 *
 * Pure: imports only zod (core/spec.ts, which uses it, is imported by workflow code).
 */
import { z } from 'zod';

export interface UnknownKey {
  /** Where the object holding the key is, e.g. ['monitoring']. */
  path: PropertyKey[];
  key: string;
  /** The keys that object may have. */
  known: string[];
}

/** Every key of `input` that `schema` has no place for, outermost first. */
export function findUnknownKeys(schema: z.ZodType, input: unknown): UnknownKey[] {
  const found: UnknownKey[] = [];
  walk(schema, input, [], found);
  return found;
}

/** One line per unknown key: "  - policies.rules.0.breachs: unknown key, did you mean "breaches"?". */
export function unknownKeyLines(schema: z.ZodType, input: unknown): string[] {
  return findUnknownKeys(schema, input).map((u) => `  - ${[...u.path, u.key].join('.')}: ${unknownKeyMessage(u)}`);
}

/** "unknown key, did you mean "approval"?" or the keys that are allowed there. */
export function unknownKeyMessage({ key, known }: UnknownKey): string {
  const suggestion = didYouMean(key, known);
  return suggestion ? `unknown key, did you mean "${suggestion}"?` : `unknown key (allowed here: ${known.join(', ') || 'none'})`;
}

/**
 * `schema`, refusing unknown keys anywhere in its input with a "did you mean" message, next to
 * the schema's own issues (so one run reports every problem). Replaces zod's own
 * "Unrecognized key" issues of strict objects, which make no suggestion.
 */
export function withKnownKeys<S extends z.ZodType>(schema: S) {
  return z.unknown().transform((raw, ctx): z.output<S> => {
    const unknown = findUnknownKeys(schema, raw);
    for (const u of unknown) ctx.addIssue({ code: 'custom', path: [...u.path, u.key], message: unknownKeyMessage(u) });
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const reported = new Set(unknown.map((u) => JSON.stringify([...u.path, u.key].map(String))));
    for (const issue of result.error.issues) {
      if (issue.code !== 'unrecognized_keys') ctx.addIssue(issue as never);
      else {
        const keys = issue.keys.filter((k) => !reported.has(JSON.stringify([...issue.path, k].map(String))));
        if (keys.length) ctx.addIssue({ ...issue, keys } as never);
      }
    }
    return z.NEVER;
  });
}

/** The candidate closest to `word` by edit distance (case aside), when it is close enough to be a typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours ("maxTrails"). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Zod's definition of a schema: its kind (`type`) and the parts that kind has. */
// Zod's internal definitions differ by kind and are not exported as types; `walk` checks `type` first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Def = { type: string } & Record<string, any>;
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function walk(schema: z.ZodType, value: unknown, path: PropertyKey[], found: UnknownKey[]): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'nonoptional':
    case 'readonly':
      return walk(def.innerType, value, path, found);
    case 'lazy':
      return walk(def.getter(), value, path, found);
    case 'pipe':
      // z.preprocess: the schema after it sees the preprocessed value (e.g. a feature given its default type).
      return defOf(def.in).type === 'transform'
        ? walk(def.out, preprocessed(def.in, value), path, found)
        : walk(def.in, value, path, found);
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => walk(def.element, item, [...path, i], found));
      return;
    case 'record':
      if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) walk(def.valueType, item, [...path, key], found);
      return;
    case 'object':
      return walkObject(def, value, path, found);
    case 'union':
      return walkUnion(def, value, path, found);
    default:
      // Scalars and kinds no spec uses (intersections, maps...): nothing to look into.
      return;
  }
}

function walkObject(def: Def, value: unknown, path: PropertyKey[], found: UnknownKey[]): void {
  if (!isPlainObject(value)) return;
  const shape = def.shape as Record<string, z.ZodType>;
  // A loose object (catchall other than never) takes any key.
  const open = def.catchall !== undefined && defOf(def.catchall).type !== 'never';
  for (const [key, item] of Object.entries(value)) {
    if (Object.hasOwn(shape, key)) walk(shape[key], item, [...path, key], found);
    else if (!open) found.push({ path, key, known: Object.keys(shape) });
  }
}

function walkUnion(def: Def, value: unknown, path: PropertyKey[], found: UnknownKey[]): void {
  const options = def.options as z.ZodType[];
  if (def.discriminator !== undefined) {
    // The option the discriminator picks; none (a bad or missing discriminator) is the schema's own error.
    if (!isPlainObject(value)) return;
    const tag = value[def.discriminator];
    const option = options.find((o) =>
      (o as unknown as { _zod: { propValues?: Record<string, Set<unknown>> } })._zod.propValues?.[def.discriminator]?.has(tag),
    );
    if (option) walk(option, value, path, found);
    return;
  }
  // A plain union: judge by the option the input fits best.
  let best: UnknownKey[] | undefined;
  for (const option of options) {
    const inOption: UnknownKey[] = [];
    walk(option, value, path, inOption);
    if (!best || inOption.length < best.length) best = inOption;
  }
  found.push(...(best ?? []));
}

/** What a z.preprocess step makes of the value; the value itself when the step refuses it. */
function preprocessed(transform: z.ZodType, value: unknown): unknown {
  try {
    return defOf(transform).transform(value, { value, issues: [], addIssue: () => undefined });
  } catch {
    return value;
  }
}
