/**
 * Fairness: per-group accuracy and positive rate, and their gaps across groups.
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O.
 */
import { sameLength } from './shared.ts';

/** Groups smaller than this are reported but left out of the gaps (their rates are too noisy). */
export const DEFAULT_MIN_GROUP_SIZE = 30;

export interface GroupMetrics {
  n: number;
  /** Share of the group's rows with predicted === truth. */
  accuracy: number;
  /** Share of the group's rows predicted as positiveClass (fairlearn's selection_rate); only with positiveClass. */
  positiveRate?: number;
  /** n >= minGroupSize: the group takes part in the gaps. */
  compared: boolean;
}

export interface FairnessReport {
  minGroupSize: number;
  /** Per group, in first-seen order. */
  groups: Record<string, GroupMetrics>;
  /** The groups with at least minGroupSize rows. */
  compared: string[];
  /** max - min accuracy over the compared groups; NaN with fewer than two compared groups. */
  accuracyGap: number;
  /**
   * max - min positive rate over the compared groups (only with positiveClass); NaN with fewer
   * than two compared groups.
   */
  demographicParityDifference?: number;
}

/**
 * Per-group accuracy and positive rate, and how far apart the groups are.
 *
 * demographicParityDifference follows fairlearn's `demographic_parity_difference(y_true, y_pred,
 * sensitive_features=groups, method='between_groups')` (fairlearn/metrics/_fairness_metrics.py):
 * "the difference between the largest and the smallest group-level selection rate, E[h(X) | A=a],
 * across all values a of the sensitive feature(s)", where selection_rate is the share of
 * predictions equal to the positive label. Two deliberate differences: groups with fewer than
 * `minGroupSize` rows are left out (a group of 3 rows has rates of 0, 1/3, 2/3 or 1 by chance),
 * and with fewer than two groups left the gap is NaN instead of fairlearn's 0 (nothing was compared).
 * The accuracy gap is the same between-groups difference of accuracy_score.
 */
export function fairnessReport(input: {
  groups: readonly string[];
  truth: readonly string[];
  predicted: readonly string[];
  positiveClass?: string;
  minGroupSize?: number;
}): FairnessReport {
  const { groups, truth, predicted, positiveClass } = input;
  const minGroupSize = input.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  sameLength('fairnessReport', groups.length, truth.length, 'true labels');
  sameLength('fairnessReport', groups.length, predicted.length, 'predictions');
  const tally = new Map<string, { n: number; hits: number; positives: number }>();
  for (let i = 0; i < groups.length; i++) {
    let t = tally.get(groups[i]);
    if (!t) tally.set(groups[i], (t = { n: 0, hits: 0, positives: 0 }));
    t.n++;
    if (truth[i] === predicted[i]) t.hits++;
    if (predicted[i] === positiveClass) t.positives++;
  }
  const out: Record<string, GroupMetrics> = {};
  const compared: string[] = [];
  for (const [g, t] of tally) {
    const m: GroupMetrics = { n: t.n, accuracy: t.hits / t.n, compared: t.n >= minGroupSize };
    if (positiveClass !== undefined) m.positiveRate = t.positives / t.n;
    out[g] = m;
    if (m.compared) compared.push(g);
  }
  const report: FairnessReport = {
    minGroupSize,
    groups: out,
    compared,
    accuracyGap: spread(compared.map((g) => out[g].accuracy)),
  };
  if (positiveClass !== undefined) report.demographicParityDifference = spread(compared.map((g) => out[g].positiveRate!));
  return report;
}

/** max - min, NaN for fewer than two values. */
function spread(values: number[]): number {
  return values.length < 2 ? NaN : Math.max(...values) - Math.min(...values);
}
