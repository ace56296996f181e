/**
 * `linf` drift test (category features): the largest gap between the two sides' category shares.
 * Drift when the distance reaches the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { alignedShares, countMap, requireCategoryTotals, type TestOutcome } from './inputs.ts';

/**
 * L-infinity distance of two category distributions: max_i |r_i - c_i| over the union of
 * categories, r_i and c_i the shares count / total (0 for a category absent on one side).
 * Range 0 .. 1. Throws DriftTestError when either side has no positive count or a count is
 * negative / not finite.
 */
export function lInfinity(referenceCounts: Record<string, number>, currentCounts: Record<string, number>): number {
  requireCategoryTotals('lInfinity', referenceCounts, currentCounts);
  const [r, c] = alignedShares(countMap(referenceCounts), countMap(currentCounts));
  let max = 0;
  for (let i = 0; i < r.length; i++) max = Math.max(max, Math.abs(r[i] - c[i]));
  return max;
}

export function lInfinityTest(reference: Record<string, number>, current: Record<string, number>): TestOutcome {
  return { statistic: lInfinity(reference, current) };
}
