/**
 * `wasserstein` drift test (numeric features): the first Wasserstein distance normed by the
 * reference's standard deviation, Evidently's `wasserstein` stattest. Drift when the distance
 * reaches the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { finiteSorted } from '../../stats/sort.ts';
import { populationStd } from '../../stats/sums.ts';
import { requireNonEmpty, type TestOutcome } from './inputs.ts';

/** Lower bound of the reference std in `wassersteinNormed` (Evidently's `max(np.std(ref), 0.001)`). */
export const WASSERSTEIN_MIN_STD = 0.001;

/**
 * Normed first Wasserstein distance, Evidently's `wasserstein` stattest:
 *
 *     scipy.stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
 *
 * The distance is the area between the two empirical CDFs, sum_k |F_r(v_k) - F_c(v_k)| (v_{k+1} - v_k)
 * over the merged sorted values v; np.std is the population std (ddof = 0). The 0.001 floor is
 * Evidently's: a constant reference does not divide by zero; the distance is then measured in
 * thousandths of a unit. Identical samples give exactly 0. Non-finite values are ignored.
 * Throws DriftTestError when either sample has no finite value.
 */
export function wassersteinNormed(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const ref = finiteSorted(reference);
  const cur = finiteSorted(current);
  requireNonEmpty('wassersteinNormed', ref.length, cur.length);
  return wassersteinTest(ref, cur).statistic;
}

/** On two non-empty ascending finite samples. */
export function wassersteinTest(reference: Float64Array, current: Float64Array): TestOutcome {
  return { statistic: wasserstein1(reference, current) / Math.max(populationStd(reference), WASSERSTEIN_MIN_STD) };
}

/** First Wasserstein distance of two ascending samples (scipy's _cdf_distance with p = 1). */
function wasserstein1(u: Float64Array, v: Float64Array): number {
  let i = 0;
  let j = 0;
  // Walk the merged order; between consecutive merged values both ECDFs are constant. The terms
  // are summed as they come, with sumOf's Neumaier compensation in the same order (the same result
  // as collecting them and calling sumOf, without an array as long as both samples together).
  let sum = 0;
  let compensation = 0;
  let prev = Math.min(u[0], v[0]);
  while (i < u.length || j < v.length) {
    while (i < u.length && u[i] <= prev) i++;
    while (j < v.length && v[j] <= prev) j++;
    if (i === u.length && j === v.length) break;
    const next = j >= v.length || (i < u.length && u[i] <= v[j]) ? u[i] : v[j];
    const term = Math.abs(i / u.length - j / v.length) * (next - prev);
    const t = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
    prev = next;
  }
  return sum + compensation;
}
