/**
 * `chisquare` drift test (category features): Pearson's chi-square goodness of fit of the current
 * counts against the reference shares, Evidently's `chisquare` stattest (with one deliberate
 * difference for unseen categories, documented at chiSquare). Drift when the p-value is below the
 * threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { chiSquareSf } from '../../stats/gamma.ts';
import { sumOf } from '../../stats/sums.ts';
import { countMap, requireCategoryTotals, unionKeys, type TestOutcome } from './inputs.ts';

/** Reference share given to a category absent from the reference in `chiSquare`. */
export const UNSEEN_CATEGORY_SHARE = 1e-4;

export interface ChiSquareResult {
  /** Pearson's X² = sum (observed - expected)² / expected. */
  statistic: number;
  /** P(chi²_df >= X²); 1 when there is a single category. */
  pValue: number;
  /** Categories in the union minus one. */
  df: number;
}

/**
 * Pearson chi-square goodness-of-fit test of the current counts against the reference shares,
 * Evidently's `chisquare` stattest: over the union of categories with a positive count on either
 * side, expected_i = reference share_i * current total, then `scipy.stats.chisquare(observed,
 * expected)`: X² = sum (o_i - e_i)² / e_i, p = chi2.sf(X², k - 1).
 *
 * Categories absent from the reference: Evidently's expected count is 0 there, which makes
 * X² = inf and p = 0 (any unseen value flags drift, and the statistic is not JSON-safe). Here such a
 * category gets a reference share of UNSEEN_CATEGORY_SHARE (1e-4) and the reference shares are then
 * renormalised to sum to 1 (scipy requires equal observed and expected totals). The result is
 * finite and still strongly significant for more than a stray unseen row. With every category seen
 * in the reference this is Evidently's computation (up to rounding).
 *
 * A single category (df = 0) has X² = 0 and, by definition here, p = 1 (scipy returns NaN).
 * Throws DriftTestError when either side has no positive count or a count is negative / not finite.
 */
export function chiSquare(referenceCounts: Record<string, number>, currentCounts: Record<string, number>): ChiSquareResult {
  requireCategoryTotals('chiSquare', referenceCounts, currentCounts);
  const ref = countMap(referenceCounts);
  const cur = countMap(currentCounts);
  const keys = unionKeys(ref, cur);
  const refTotal = sumOf(keys.map((k) => ref.get(k) ?? 0));
  const curTotal = sumOf(keys.map((k) => cur.get(k) ?? 0));
  const shares = keys.map((k) => {
    const count = ref.get(k) ?? 0;
    return count > 0 ? count / refTotal : UNSEEN_CATEGORY_SHARE;
  });
  const shareTotal = sumOf(shares);
  let statistic = 0;
  keys.forEach((k, i) => {
    const expected = (shares[i] / shareTotal) * curTotal;
    const diff = (cur.get(k) ?? 0) - expected;
    statistic += (diff * diff) / expected;
  });
  const df = keys.length - 1;
  const pValue = df === 0 ? 1 : chiSquareSf(statistic, df);
  return { statistic, pValue, df };
}

export function chiSquareTest(reference: Record<string, number>, current: Record<string, number>): TestOutcome {
  const r = chiSquare(reference, current);
  return { statistic: r.statistic, pValue: r.pValue };
}
