/**
 * Retraining policies: named rules over a monitoring summary (core/monitoring.ts). PURE and
 * deterministic: the lifecycle workflow evaluates them on every monitoring cycle and carries
 * `PolicyState` across cycles and continue-as-new.
 *
 * A rule's condition is a threshold on a metric, drift on N features or a share of them, a
 * concept-drift detector's alarm, or `all` / `any` of conditions, nested. A rule fires when its
 * condition held in `breaches` of its last `within` measured cycles (sensitivity: one noisy
 * reading is not enough), except during the cooldown after a retrain; a `hardFloor` rule fires
 * on its first breach, cooldown or not. The shorthand fields of the first policy format
 * (accuracyBelow, newLabels, drift, breachesToFire) still work: they become rules.
 */
import { z } from 'zod';
import { Duration, parseDuration } from './duration.ts';
import { builtOnFirstUse } from './lazy-schema.ts';
import {
  DETECTORS,
  LABEL_METRICS,
  METRICS,
  metricValue,
  type MetricName,
  type MonitoringClock,
  type MonitoringSummary,
} from './monitoring.ts';

const COMPARISONS = ['below', 'above', 'atLeast'] as const;
const KINDS = ['metric', 'drift', 'detector', 'all', 'any'] as const;

export interface Condition {
  metric?: MetricName;
  /** Breach when value < below. */
  below?: number;
  /** Breach when value > above. */
  above?: number;
  /** Breach when value >= atLeast. */
  atLeast?: number;
  /** Label metrics are judged only on at least this many labelled predictions (default 30). */
  minLabels?: number;
  /** Breach when at least `features` features drifted, or at least `share` of them (of `among`, if given). */
  drift?: { features?: number; share?: number; among?: string[] };
  detector?: (typeof DETECTORS)[number];
  all?: Condition[];
  any?: Condition[];
}

export const Condition: z.ZodType<Condition> = builtOnFirstUse(() =>
  z
    .strictObject({
      metric: z.enum(METRICS).optional(),
      below: z.number().optional(),
      above: z.number().optional(),
      atLeast: z.number().optional(),
      minLabels: z.number().int().nonnegative().optional(),
      drift: z
        .strictObject({
          features: z.number().int().positive().optional(),
          share: z.number().gt(0).max(1).optional(),
          among: z.array(z.string().min(1)).min(1).optional(),
        })
        .refine((d) => d.features !== undefined || d.share !== undefined, 'give "features" (a count) or "share" (0-1)')
        .optional(),
      detector: z.enum(DETECTORS).optional(),
      all: z.array(Condition).min(1).optional(),
      any: z.array(Condition).min(1).optional(),
    })
    .superRefine((c, ctx) => {
      const kinds = KINDS.filter((k) => c[k] !== undefined);
      if (kinds.length !== 1)
        ctx.addIssue({
          code: 'custom',
          message: `a condition has exactly one of ${KINDS.join(', ')}; got ${kinds.length ? kinds.join(' and ') : 'none'}`,
        });
      const comparisons = COMPARISONS.filter((k) => c[k] !== undefined);
      if (c.metric !== undefined && comparisons.length !== 1)
        ctx.addIssue({ code: 'custom', message: `metric "${c.metric}" needs exactly one of ${COMPARISONS.join(', ')}` });
      if (c.metric === undefined && (comparisons.length > 0 || c.minLabels !== undefined))
        ctx.addIssue({
          code: 'custom',
          message: `${[...comparisons, ...(c.minLabels !== undefined ? ['minLabels'] : [])].join(', ')} only go with "metric"`,
        });
    }),
);

export const PolicyRule = builtOnFirstUse(() =>
  z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'rule names are letters, digits, _ and -'),
      when: Condition,
      /** Sensitivity: fire when the condition held in `breaches` of the last `within` measured cycles. */
      breaches: z.number().int().positive().default(1),
      within: z.number().int().positive().optional(),
      /** Fire on the first breach, even during the cooldown. */
      hardFloor: z.boolean().default(false),
    })
    .refine((r) => r.within === undefined || r.within >= r.breaches, { message: '"within" must be at least "breaches"', path: ['within'] }),
);
export type PolicyRule = z.infer<typeof PolicyRule>;

export const PolicySpec = builtOnFirstUse(() =>
  z
    .object({
      rules: z.array(PolicyRule).default([]),
      /** Shorthand: a rule "accuracy" firing when accuracy on labelled feedback falls below threshold. */
      accuracyBelow: z.object({ threshold: z.number().min(0).max(1), minLabels: z.number().int().positive().default(30) }).optional(),
      /** Shorthand: a rule "newLabels" firing once this many new labelled records arrived since the last training. */
      newLabels: z.object({ count: z.number().int().positive() }).optional(),
      /** Shorthand: a rule "drift" firing when this share of the features drifted (p-value tests at `pValue`). */
      drift: z
        .object({
          pValue: z.number().gt(0).lt(1).default(0.05),
          minFeatureShare: z.number().gt(0).max(1).default(0.5),
          minRows: z.number().int().positive().default(100),
        })
        .optional(),
      /** Shorthand rules need this many consecutive breaching cycles. */
      breachesToFire: z.number().int().positive().default(1),
      /** No policy-triggered retrain within this long after the previous one (hard floors excepted). */
      cooldown: Duration.default('0s'),
    })
    .superRefine((p, ctx) => {
      const names = compileRules(p as PolicySpec).map((r) => r.name);
      const twice = names.filter((n, i) => names.indexOf(n) !== i);
      if (twice.length)
        ctx.addIssue({
          code: 'custom',
          path: ['rules'],
          message: `rule names must be unique; repeated: ${[...new Set(twice)].join(', ')} (shorthand fields make rules named accuracy, newLabels and drift)`,
        });
    }),
);
export type PolicySpec = z.infer<typeof PolicySpec>;

/** The shorthand fields as rules, followed by the explicit rules. */
export function compileRules(p: PolicySpec): PolicyRule[] {
  const k = p.breachesToFire ?? 1;
  const shorthand: PolicyRule[] = [];
  if (p.accuracyBelow)
    shorthand.push({
      name: 'accuracy',
      when: { metric: 'accuracy', below: p.accuracyBelow.threshold, minLabels: p.accuracyBelow.minLabels },
      breaches: k,
      within: k,
      hardFloor: false,
    });
  if (p.newLabels)
    shorthand.push({
      name: 'newLabels',
      when: { metric: 'new_labels', atLeast: p.newLabels.count },
      breaches: k,
      within: k,
      hardFloor: false,
    });
  if (p.drift)
    shorthand.push({ name: 'drift', when: { drift: { share: p.drift.minFeatureShare } }, breaches: k, within: k, hardFloor: false });
  return [...shorthand, ...(p.rules ?? [])];
}

export interface PolicyState {
  /** Per rule, whether its condition held in each recent measured cycle, oldest first. */
  windows: Record<string, boolean[]>;
  /** Epoch ms before which policy-triggered retrains are suppressed (hard floors excepted). */
  cooldownUntil: number;
}

export const initialPolicyState = (): PolicyState => ({ windows: {}, cooldownUntil: 0 });

/** A rule that fired: its name, a sentence with the evidence, and the values behind it. */
export interface FiredRule {
  rule: string;
  reason: string;
  values: Record<string, number>;
}

export interface PolicyVerdict {
  fire: boolean;
  fired: FiredRule[];
  /** Rules that breached without firing (sensitivity, cooldown) or could not be judged, for the status query. */
  notes: string[];
  /** The names of the rules that breached this cycle without firing. */
  breached: string[];
  state: PolicyState;
}

/** A condition's outcome: held, did not hold, or not measurable this cycle (held = null). */
interface Outcome {
  held: boolean | null;
  reason: string;
  values: Record<string, number>;
}

const fmt = (v: number) => String(Number(v.toPrecision(3)));

function judge(c: Condition, s: MonitoringSummary, clock: MonitoringClock): Outcome {
  if (c.metric !== undefined) {
    const value = metricValue(s, c.metric, clock);
    const needsLabels = LABEL_METRICS.includes(c.metric);
    const minLabels = c.minLabels ?? 30;
    if (value === null || Number.isNaN(value)) {
      const why = c.metric === 'estimated_accuracy' && s.estimated?.note ? `: ${s.estimated.note}` : '';
      return { held: null, reason: `${c.metric} not measured this cycle${why}`, values: {} };
    }
    if (needsLabels && s.performance.n < minLabels)
      return { held: null, reason: `${c.metric} needs ${minLabels} labelled predictions, got ${s.performance.n}`, values: {} };
    const [op, limit, held]: [string, number, boolean] =
      c.below !== undefined
        ? ['<', c.below, value < c.below]
        : c.above !== undefined
          ? ['>', c.above, value > c.above]
          : ['>=', c.atLeast!, value >= c.atLeast!];
    const on = needsLabels
      ? ` on ${s.performance.n} labelled predictions`
      : c.metric === 'estimated_accuracy'
        ? ` (CBPE) on ${s.estimated?.n ?? 0} predictions`
        : '';
    return { held, reason: `${c.metric} ${fmt(value)} ${held ? op : `not ${op}`} ${fmt(limit)}${on}`, values: { [c.metric]: value } };
  }
  if (c.drift !== undefined) {
    if (!s.drift.tested) return { held: null, reason: `drift not tested this cycle (${s.drift.rows} rows so far)`, values: {} };
    const pool = c.drift.among ? s.drift.features.filter((f) => c.drift!.among!.includes(f.name)) : s.drift.features;
    const drifted = pool.filter((f) => f.drifted);
    const share = pool.length ? drifted.length / pool.length : 0;
    const held =
      (c.drift.features !== undefined && drifted.length >= c.drift.features) ||
      (c.drift.share !== undefined && pool.length > 0 && share >= c.drift.share);
    const list = drifted.map((f) => `${f.name} (${f.test} ${fmt(f.pValue ?? f.statistic)})`).join(', ');
    return {
      held,
      reason: `input drift on ${drifted.length}/${pool.length} features over ${s.drift.rows} predictions${list ? `: ${list}` : ''}`,
      values: { drifted_features: drifted.length, drifted_share: share },
    };
  }
  if (c.detector !== undefined) {
    const d = s.detectors[c.detector];
    return {
      held: d.drift,
      reason: `${c.detector} ${d.drift ? 'signalled' : 'did not signal'} concept drift on the error stream`,
      values: { [`${c.detector}_alarm`]: d.drift ? 1 : 0 },
    };
  }
  const parts = (c.all ?? c.any)!.map((child) => judge(child, s, clock));
  const all = c.all !== undefined;
  const held = all
    ? parts.some((p) => p.held === false)
      ? false
      : parts.every((p) => p.held === true)
        ? true
        : null
    : parts.some((p) => p.held === true)
      ? true
      : parts.every((p) => p.held === false)
        ? false
        : null;
  const shown = held ? parts.filter((p) => p.held) : parts;
  return {
    held,
    reason: shown.map((p) => p.reason).join(all ? ' and ' : held ? ' or ' : '; '),
    values: Object.assign({}, ...shown.map((p) => p.values)),
  };
}

export function evaluatePolicies(
  policies: PolicySpec,
  summary: MonitoringSummary,
  state: PolicyState,
  clock: MonitoringClock,
): PolicyVerdict {
  const rules = compileRules(policies);
  const windows: Record<string, boolean[]> = {};
  const ready: FiredRule[] = [];
  const notes: string[] = [];
  const breached: string[] = [];
  for (const rule of rules) {
    const outcome = judge(rule.when, summary, clock);
    const within = rule.within ?? rule.breaches;
    const past = state.windows[rule.name] ?? [];
    // Cycles that could not measure the rule neither count for nor against it.
    const window = outcome.held === null ? past : [...past, outcome.held].slice(-within);
    windows[rule.name] = window;
    if (outcome.held === null) {
      notes.push(`${rule.name}: ${outcome.reason}`);
      continue;
    }
    if (!outcome.held) continue;
    const count = window.filter(Boolean).length;
    const fired = { rule: rule.name, reason: `${rule.name}: ${outcome.reason}`, values: outcome.values };
    if (rule.hardFloor) ready.push({ ...fired, reason: `${fired.reason} (hard floor)` });
    else if (count >= rule.breaches) ready.push(fired);
    else {
      breached.push(rule.name);
      notes.push(`${rule.name} breached in ${count}/${rule.breaches} of the last ${within} cycles: ${outcome.reason}`);
    }
  }
  const cooling = clock.nowMs < state.cooldownUntil;
  const firing = cooling ? ready.filter((r) => rules.find((x) => x.name === r.rule)!.hardFloor) : ready;
  const suppressed = ready.filter((r) => !firing.includes(r)).map((r) => r.rule);
  if (suppressed.length) {
    breached.push(...suppressed);
    notes.push(`cooldown until ${new Date(state.cooldownUntil).toISOString()} suppressed: ${suppressed.join(', ')}`);
  }
  if (firing.length === 0) return { fire: false, fired: [], notes, breached, state: { ...state, windows } };
  // Windows restart after firing, so the same evidence does not fire again next cycle.
  return { fire: true, fired: firing, notes, breached, state: { windows: {}, cooldownUntil: state.cooldownUntil } };
}

/** Called when a retrain starts, whatever triggered it. */
export function startCooldown(policies: PolicySpec, state: PolicyState, nowMs: number): PolicyState {
  return { ...state, cooldownUntil: nowMs + parseDuration(policies.cooldown) };
}
