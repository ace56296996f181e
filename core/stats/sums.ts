/**
 * Sums and moments. Two summation orders live here on purpose, each matching the library whose
 * numbers its callers reproduce:
 * - `sumOf`: Neumaier-compensated, within an ulp or two of numpy's pairwise sums on long inputs
 *   (the drift tests, which match scipy / Evidently);
 * - `plainSum`: left to right, as scikit-learn's metrics add small vectors (core/metrics/*).
 * Replacing one by the other would change results in the last bits, so both stay.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

/** Neumaier-compensated sum: stays within an ulp or two of numpy's pairwise sums on long inputs. */
export function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/** Left-to-right sum, no compensation. */
export function plainSum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** plainSum / length; NaN for no values. */
export function plainMean(values: readonly number[]): number {
  return values.length === 0 ? NaN : plainSum(values) / values.length;
}

/** np.std (ddof = 0): sqrt(mean((x - mean)^2)), the two-pass formula with compensated sums. */
export function populationStd(x: Float64Array): number {
  const mean = sumOf(x) / x.length;
  const squares = Array.from(x, (v) => (v - mean) * (v - mean));
  return Math.sqrt(sumOf(squares) / x.length);
}
