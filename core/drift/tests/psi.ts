/**
 * `psi` drift test (numeric features): the population stability index with ten quantile bins of
 * the reference (core/stats/psi.ts). Drift when the index reaches the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { psiSorted } from '../../stats/psi.ts';
import type { TestOutcome } from './inputs.ts';

/** On two non-empty ascending finite samples. */
export function psiTest(reference: Float64Array, current: Float64Array): TestOutcome {
  return { statistic: psiSorted(reference, current) };
}
