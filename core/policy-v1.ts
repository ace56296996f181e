/**
 * The first retraining policies (accuracyBelow, newLabels, KS drift; consecutive breaches).
 * LEGACY: only lifecycle histories recorded before the `policy-rules-v2` patch take this path on
 * replay (workflows/lifecycle.ts); new cycles use core/policy.ts. Delete once no such lifecycle
 * is running.
 */
import type { PolicySpec } from './policy.ts';
import { parseDuration } from './duration.ts';

/** What one monitoring cycle learned about production; small enough for workflow history. */
export interface MonitoringSummaryV1 {
  at: string;
  championVersion?: string;
  /** Champion predictions labelled since the previous cycle. */
  labelled: { n: number; accuracy: number | null };
  /** Labelled records stored since the last training snapshot. */
  newLabels: number;
  drift: {
    rows: number;
    features: Array<{ name: string; statistic: number; pValue: number; drifted: boolean }>;
    driftedShare: number;
  };
  /** Where the next cycle starts reading feedback. */
  feedbackCursor: number;
}

export interface PolicyStateV1 {
  /** Consecutive breaching cycles per rule. */
  breaches: Record<string, number>;
  /** Epoch ms before which policy-triggered retrains are suppressed. */
  cooldownUntil: number;
}

export const initialPolicyStateV1 = (): PolicyStateV1 => ({ breaches: {}, cooldownUntil: 0 });

export interface PolicyVerdictV1 {
  fire: boolean;
  /** One sentence per rule that fired, with the values that made it fire. */
  reasons: string[];
  /** Short machine-friendly trigger names, e.g. ["drift", "accuracy"]. */
  rules: string[];
  /** Rules that breached but did not fire yet (sensitivity or cooldown), for the status query. */
  notes: string[];
  state: PolicyStateV1;
}

interface Breach {
  rule: string;
  reason: string;
}

function breachesOf(policies: PolicySpec, s: MonitoringSummaryV1): { checked: string[]; breaches: Breach[] } {
  const checked: string[] = [];
  const breaches: Breach[] = [];
  const { accuracyBelow, newLabels, drift } = policies;
  if (accuracyBelow) {
    checked.push('accuracy');
    if (s.labelled.accuracy !== null && s.labelled.n >= accuracyBelow.minLabels && s.labelled.accuracy < accuracyBelow.threshold) {
      breaches.push({
        rule: 'accuracy',
        reason: `accuracy ${s.labelled.accuracy.toFixed(3)} on ${s.labelled.n} labelled predictions is below ${accuracyBelow.threshold}`,
      });
    }
  }
  if (newLabels) {
    checked.push('newLabels');
    if (s.newLabels >= newLabels.count) {
      breaches.push({ rule: 'newLabels', reason: `${s.newLabels} new labelled records (policy: ${newLabels.count})` });
    }
  }
  if (drift) {
    checked.push('drift');
    if (s.drift.rows >= drift.minRows && s.drift.features.length > 0 && s.drift.driftedShare >= drift.minFeatureShare) {
      const names = s.drift.features
        .filter((f) => f.drifted)
        .map((f) => `${f.name} (KS ${f.statistic.toFixed(3)}, p=${f.pValue.toExponential(2)})`);
      breaches.push({
        rule: 'drift',
        reason: `input drift on ${names.length}/${s.drift.features.length} features over ${s.drift.rows} predictions: ${names.join(', ')}`,
      });
    }
  }
  return { checked, breaches };
}

export function evaluatePoliciesV1(
  policies: PolicySpec,
  summary: MonitoringSummaryV1,
  state: PolicyStateV1,
  nowMs: number,
): PolicyVerdictV1 {
  const { checked, breaches } = breachesOf(policies, summary);
  const counters: Record<string, number> = {};
  for (const rule of checked) {
    const breach = breaches.find((b) => b.rule === rule);
    // Sensitivity: a rule needs several consecutive breaching cycles, not one noisy reading.
    counters[rule] = breach ? (state.breaches[rule] ?? 0) + 1 : 0;
  }
  const ready = breaches.filter((b) => counters[b.rule] >= policies.breachesToFire);
  const notes = breaches
    .filter((b) => !ready.includes(b))
    .map((b) => `${b.rule} breached ${counters[b.rule]}/${policies.breachesToFire} cycles`);
  if (ready.length > 0 && nowMs < state.cooldownUntil) {
    notes.push(`cooldown until ${new Date(state.cooldownUntil).toISOString()} suppressed: ${ready.map((b) => b.rule).join(', ')}`);
    return { fire: false, reasons: [], rules: [], notes, state: { ...state, breaches: counters } };
  }
  if (ready.length === 0) return { fire: false, reasons: [], rules: [], notes, state: { ...state, breaches: counters } };
  return {
    fire: true,
    reasons: ready.map((b) => b.reason),
    rules: ready.map((b) => b.rule),
    notes,
    // Counters restart after firing so the same breach does not fire again on the next cycle.
    state: { breaches: Object.fromEntries(checked.map((r) => [r, 0])), cooldownUntil: state.cooldownUntil },
  };
}

/** Called when a retrain starts, whatever triggered it. */
export function startCooldownV1(policies: PolicySpec, state: PolicyStateV1, nowMs: number): PolicyStateV1 {
  return { ...state, cooldownUntil: nowMs + parseDuration(policies.cooldown) };
}
