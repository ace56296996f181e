/**
 * A new spec for a running lifecycle (`perennial register` of a changed spec file): what changed,
 * whether the lifecycle can take it, and whether it calls for a retrain. PURE; the spec itself is
 * validated outside the workflow (activities/spec-check.ts), which has the spec schemas.
 */
import type { ModelSpec } from './spec.ts';

/** Parts of the spec that decide what a retrain produces: a change to them retrains. */
const TRAINING_PARTS = ['features', 'label', 'image', 'training'];
const SHOWN = 120;

/**
 * One line per changed leaf: `training.sweep.budget.maxTrials: 2 -> 4`. Lists of named entries
 * (features) compare by name, `features[wind].min: 0 -> 1`; other lists compare whole.
 */
export function specDiff(before: unknown, after: unknown, path = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => specDiff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (isNamedList(before) && isNamedList(after)) {
    const byName = (list: Named[]) => new Map(list.map((e) => [e.name, e]));
    const [was, now] = [byName(before), byName(after)];
    const order = (list: Named[]) => list.map((e) => e.name).join(',');
    const names = [...new Set([...was.keys(), ...now.keys()])];
    const moved = was.size === now.size && names.every((n) => was.has(n) && now.has(n)) && order(before) !== order(after);
    return [
      ...names.flatMap((n) => specDiff(was.get(n), now.get(n), `${path}[${n}]`)),
      ...(moved ? [`${path}: order ${order(before)} -> ${order(after)}`] : []),
    ];
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [`${path || '(spec)'}: ${shown(before)} -> ${shown(after)}`];
}

/** Why a lifecycle cannot take `next` in place of `current`, or undefined when it can. */
export function specChangeRefusal(current: ModelSpec, next: ModelSpec): string | undefined {
  if (next.name !== current.name) return `name: the spec is for model "${next.name}", this lifecycle runs "${current.name}"`;
  if ((next.taskQueue ?? '') !== (current.taskQueue ?? '')) {
    return `taskQueue: a running lifecycle stays on its task queue (${current.taskQueue ?? 'the default'}); stop it and register again to move it`;
  }
  return undefined;
}

/** The changed lines that call for a retrain (a new model would differ), of specDiff's lines. */
export function retrainingChanges(diff: string[]): string[] {
  return diff.filter((line) => TRAINING_PARTS.some((part) => line.startsWith(part) && ['.', '[', ':'].includes(line[part.length])));
}

type Named = { name: string } & Record<string, unknown>;

function isNamedList(v: unknown): v is Named[] {
  return Array.isArray(v) && v.every((e) => isPlainObject(e) && typeof e.name === 'string');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shown(v: unknown): string {
  const text = v === undefined ? '(none)' : JSON.stringify(v);
  return text.length > SHOWN ? `${text.slice(0, SHOWN - 1)}…` : text;
}
