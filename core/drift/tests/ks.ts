/**
 * `ks` drift test (numeric features): the two-sample Kolmogorov-Smirnov test, scipy's ks_2samp
 * (core/stats/ks.ts), as Evidently's `ks` stattest. Drift when the p-value is below the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { ksTwoSampleSorted } from '../../stats/ks.ts';
import type { TestOutcome } from './inputs.ts';

/** On two non-empty ascending finite samples. */
export function ksTest(reference: Float64Array, current: Float64Array): TestOutcome {
  const r = ksTwoSampleSorted(reference, current);
  return { statistic: r.statistic, pValue: r.pValue };
}
