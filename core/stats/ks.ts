/**
 * The two-sample Kolmogorov-Smirnov test, numerically matching `scipy.stats.ks_2samp(a, b)`
 * (alternative='two-sided', method='auto') of SciPy 1.17: `ksTwoSample` for any samples,
 * `ksTwoSampleSorted` for ascending ones without a copy or a sort.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { kolmogorovSf } from './kolmogorov.ts';
import { clamp01, gcd, roundHalfEven } from './numbers.ts';
import { lowerBound, upperBound } from './search.ts';
import { sortedWithoutNaN } from './sort.ts';

export interface KsResult {
  /** Largest absolute gap between the two empirical CDFs (D). */
  statistic: number;
  /** Two-sided p-value under H0 "both samples come from the same continuous distribution". */
  pValue: number;
  /** How the p-value was computed, as scipy's `method` would have resolved it. */
  method: 'exact' | 'asymp';
}

/** scipy's MAX_AUTO_N: 'auto' is exact when both samples have at most this many values. */
const MAX_EXACT_N = 10_000;

/**
 * Two-sample two-sided Kolmogorov-Smirnov test, the same computation as
 * `scipy.stats.ks_2samp(a, b)` with the defaults (alternative='two-sided', method='auto'):
 *
 * - D = max over all observed values v of |F_a(v) - F_b(v)| (right-continuous ECDFs, so ties are
 *   handled exactly as scipy's `searchsorted(..., side='right')`).
 * - If max(n_a, n_b) <= 10000 the p-value is exact (Hodges' lattice-path counting, Viehmann's
 *   stable recursion for unequal sizes; the closed-form alternating sum for equal sizes). As in
 *   scipy, D is then snapped to the nearest multiple of 1/lcm(n_a, n_b).
 * - Otherwise (or if the exact computation fails numerically) the p-value is
 *   P(D_n >= D) of the one-sample two-sided Kolmogorov distribution with n = round(n_a n_b / (n_a + n_b)),
 *   evaluated with Simard & L'Ecuyer's algorithm selection as scipy's `kstwo.sf` does.
 *
 * NaN values are ignored (like `nan_policy='omit'`); +/-Infinity are ordinary values.
 * Throws a RangeError when either sample is empty after dropping NaN.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = sortedWithoutNaN(a);
  const y = sortedWithoutNaN(b);
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample: both samples need at least one (non-NaN) value');

  // Walk the merged order; at each distinct value compare the two right-continuous ECDFs.
  let i = 0;
  let j = 0;
  let maxDiff = 0; // max of cdf1 - cdf2
  let minDiff = 0; // min of cdf1 - cdf2
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    while (i < n1 && x[i] <= v) i++;
    while (j < n2 && y[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  let d = minS > maxDiff ? minS : maxDiff;

  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideInsideMethod(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pValue: p, method: 'exact' };
    // fall through to the asymptotic distribution, as scipy does after a failed exact attempt
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const p = kolmogorovSf(roundHalfEven(en), d);
  return { statistic: d, pValue: clamp01(p), method: 'asymp' };
}

/**
 * `ksTwoSample` (scipy's ks_2samp) for two ascending Float64Arrays, without copying
 * or sorting them: the same statistic and p-value, bit for bit. When both samples have at most
 * 10000 values the exact p-value is computed by ksTwoSample itself (the copy is then small);
 * otherwise the p-value comes from the asymptotic Kolmogorov distribution, as in ksTwoSample.
 *
 * D needs no walk over the larger sample: between two consecutive distinct values of the smaller
 * sample its ECDF is constant and the other's only grows, so the extremes of the ECDF difference
 * over all observed values are reached at the smaller sample's values (counting the larger
 * sample's values <= them) and just before the next one (counting those < it); two binary
 * searches per distinct value of the smaller sample, the same quotients and differences as
 * ksTwoSample's merged walk, so the same D. The caller guarantees the order (no NaN); use
 * ksTwoSample for unsorted data. Throws a RangeError when either sample is empty.
 */
export function ksTwoSampleSorted(x: Float64Array, y: Float64Array): KsResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSampleSorted: both samples need at least one value');
  if (Math.max(n1, n2) <= MAX_EXACT_N) return ksTwoSample(x, y);
  // extremes of cdf_small - cdf_large; for x the larger sample they change sign and swap
  const swap = n1 > n2;
  const small = swap ? y : x;
  const large = swap ? x : y;
  const ns = small.length;
  const nl = large.length;
  let maxDiff = 0;
  let minDiff = 0;
  const consider = (i: number, j: number) => {
    const diff = i / ns - j / nl;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  };
  // large values below the smallest small value
  consider(0, lowerBound(large, small[0]));
  for (let k = 0; k < ns;) {
    const v = small[k];
    while (k < ns && small[k] === v) k++; // k = #small <= v
    consider(k, upperBound(large, v));
    consider(k, k < ns ? lowerBound(large, small[k]) : nl);
  }
  // 0 - x: exactly -x, and +0 (not -0) when x is 0, as the walk's initial values are
  if (swap) [maxDiff, minDiff] = [0 - minDiff, 0 - maxDiff];
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  const d = minS > maxDiff ? minS : maxDiff;
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const p = kolmogorovSf(roundHalfEven((m * n) / (m + n)), d);
  return { statistic: d, pValue: clamp01(p), method: 'asymp' };
}

// ---------------------------------------------------------------------------------------------
// exact two-sample distribution (Hodges 1958; Viehmann 2021, arXiv:2102.08037)

/**
 * P(D_{n,n} >= h/n) for two samples of equal size n:
 * 2 * sum_k (-1)^(k+1) C(2n, n - k h) / C(2n, n), evaluated in a nested (Horner-like) form to avoid
 * cancellation.
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    P = ratio * (1 - P);
  }
  return 2 * P;
}

/**
 * P(D_{m,n} >= h / lcm(m, n)) for unequal sizes: one minus the share of monotone lattice paths
 * (0,0) -> (m,n) staying strictly inside |x/m - y/n| < h / lcm, computed column by column with
 * Viehmann's recursion for the complement, which keeps every entry in [0, 1].
 */
function probOutsideInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let k = minj; k < maxj; k++) A[k] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const from = maxj - minj;
      const to = Math.min(from + (lastlen - curlen), lenA);
      for (let k = from; k < to; k++) A[k] = 1;
    }
  }
  return A[maxj - minj - 1];
}
