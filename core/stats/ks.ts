/**
 * Statistics used by monitoring and evaluation.
 *
 * PURE module: no Node, tfjs or npm imports. It is imported by Temporal workflow code, so it must
 * stay deterministic and free of I/O.
 *
 * - ksTwoSample: two-sample Kolmogorov-Smirnov test, numerically matching
 *   `scipy.stats.ks_2samp(a, b)` (alternative='two-sided', method='auto') of SciPy 1.17.
 * - psi: population stability index with quantile bins from the reference sample.
 * - accuracy: share of equal predictions.
 * - sampleSorted: bounded, deterministic, evenly spaced quantile sample of a distribution.
 */

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
 * Share of positions where `pred[i] === truth[i]`. Throws when the lengths differ;
 * returns NaN for empty input (no evidence either way).
 */
export function accuracy(pred: readonly string[], truth: readonly string[]): number {
  if (pred.length !== truth.length) {
    throw new RangeError(`accuracy: ${pred.length} predictions but ${truth.length} true labels`);
  }
  if (pred.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) hits++;
  return hits / pred.length;
}

/** Proportion substituted for an empty bin in `psi` (so the logarithm stays finite). */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index of `current` against `reference`:
 *
 *     PSI = sum_i (c_i - r_i) * ln(c_i / r_i)
 *
 * where r_i and c_i are the shares of the reference and current values in bin i.
 * Bins come from the reference: the cut points are its quantiles at k/bins, k = 1..bins-1
 * (linear interpolation, numpy's default `np.quantile`), duplicates removed (so heavily tied data
 * gets fewer bins). Bin i is (cut_{i-1}, cut_i], the first bin starts at -Infinity and the last
 * ends at +Infinity, so every value falls in some bin. A share of 0 is replaced by PSI_EPSILON
 * (1e-4) before the formula is applied (shares are not renormalised). NaN values are ignored.
 * Rules of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 large shift.
 * Throws a RangeError when either sample is empty or bins < 1.
 */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, bins = 10): number {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`psi: bins must be a positive integer, got ${bins}`);
  const ref = sortedWithoutNaN(reference);
  const cur = sortedWithoutNaN(current);
  if (ref.length === 0 || cur.length === 0) throw new RangeError('psi: both samples need at least one (non-NaN) value');
  return psiSorted(ref, cur, bins);
}

/** `psi` of two non-empty ascending samples (no copy, no sort): for callers that sorted already. */
export function psiSorted(ref: Float64Array, cur: Float64Array, bins = 10): number {
  const cuts: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantileSorted(ref, k / bins);
    if (cuts.length === 0 || q > cuts[cuts.length - 1]) cuts.push(q);
  }
  const refShares = binShares(ref, cuts);
  const curShares = binShares(cur, cuts);
  let total = 0;
  for (let i = 0; i < refShares.length; i++) {
    const r = refShares[i] > 0 ? refShares[i] : PSI_EPSILON;
    const c = curShares[i] > 0 ? curShares[i] : PSI_EPSILON;
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/**
 * A bounded, deterministic summary of a distribution: the values sorted ascending; when there are
 * more than `maxSize`, the order statistics at evenly spaced ranks round(i (n-1) / (maxSize-1)),
 * i = 0..maxSize-1 (so the minimum and maximum are always kept). Non-finite values are dropped.
 * The result is a plain array (JSON-friendly).
 */
export function sampleSorted(values: ArrayLike<number>, maxSize: number): number[] {
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`sampleSorted: maxSize must be a positive integer, got ${maxSize}`);
  }
  const sorted: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) sorted.push(v);
  }
  sorted.sort((p, q) => p - q);
  const n = sorted.length;
  if (n <= maxSize) return sorted;
  if (maxSize === 1) return [sorted[Math.floor((n - 1) / 2)]];
  const out = new Array<number>(maxSize);
  for (let i = 0; i < maxSize; i++) out[i] = sorted[Math.round((i * (n - 1)) / (maxSize - 1))];
  return out;
}

/** Quantile of an ascending array with linear interpolation (numpy's default, "type 7"). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

// ---------------------------------------------------------------------------------------------
// helpers

function sortedWithoutNaN(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) out[k++] = v;
  }
  return out.sort(); // typed-array sort is numeric
}

/** Shares of an ascending sample in the bins (-inf, c0], (c0, c1], ..., (c_last, inf). */
function binShares(sorted: Float64Array, cuts: number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (bin < cuts.length && sorted[i] > cuts[bin]) bin++;
    counts[bin]++;
  }
  return counts.map((c) => c / sorted.length);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function clamp01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** x * 2^e without overflowing the intermediate power of two. */
function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
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

// ---------------------------------------------------------------------------------------------
// one-sample two-sided Kolmogorov distribution P(D_n >= x) (scipy.stats.kstwo.sf),
// following Simard & L'Ecuyer (2011) as scipy/stats/_ksstats.py does.

const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT3 = Math.sqrt(3);
const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const MIN_LOG = -708;
// B_{2j} / (2j) / (2j-1), j = 8..1 (Stirling series), highest power first.
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** log(n! / n^n) by Stirling's series, without forming n log n. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  const y = rn / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * y + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** Survival function P(D_n >= x) of the two-sided one-sample KS statistic. */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben-Gambino: 1/(2n) <= x <= 1/n
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clamp01(1 - cdf);
  }
  if (t >= n - 1) return clamp01(2 * (1 - x) ** n);
  if (x >= 0.5) return clamp01(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clamp01(1 - kolmogorovCdfDurbin(n, x));
    if (nxSquared <= 4) return clamp01(1 - kolmogorovCdfPomeranz(n, x));
    return clamp01(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clamp01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x);
  return clamp01(1 - cdf);
}

/** P(D_n <= d): Durbin's matrix algorithm as organised by Marsaglia, Tsang & Wang (2003). */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array[] = Array.from({ length: m }, () => new Float64Array(m));
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r][i] = w[r - (i - 1)];
  }
  for (let r = 0; r < m; r++) H[r][0] = v[r];
  for (let c = 0; c < m; c++) H[m - 1][c] = v[m - 1 - c];

  let Hpwr: Float64Array[] = Array.from({ length: m }, (_, r) => {
    const row = new Float64Array(m);
    row[r] = 1;
    return row;
  });
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H);
      expnt += Hexpnt;
    }
    H = matmul(H, H);
    Hexpnt *= 2;
    if (Math.abs(H[k - 1][k - 1]) > EP128) {
      for (const row of H) for (let c = 0; c < m; c++) row[c] /= EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[k - 1][k - 1];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clamp01(p);
}

function matmul(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const m = a.length;
  const out = Array.from({ length: m }, () => new Float64Array(m));
  for (let r = 0; r < m; r++) {
    const ar = a[r];
    const or = out[r];
    for (let k = 0; k < m; k++) {
      const av = ar[k];
      if (av === 0) continue;
      const bk = b[k];
      for (let c = 0; c < m; c++) or[c] += av * bk[c];
    }
  }
  return out;
}

function pomeranzBounds(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(D_n <= x): Pomeranz's recursion (1974). */
function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const base = k1 - V0s;
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      // full convolution of V0[base .. base+ln2) with pwrs[0 .. ln2), entries convStart.. only
      let maxV = 0;
      for (let o = 0; o < convLen; o++) {
        const idx = convStart + o;
        let s = 0;
        const lo = Math.max(0, idx - (ln2 - 1));
        const hi = Math.min(idx, ln2 - 1);
        for (let a = lo; a <= hi; a++) s += V0[base + a] * pwrs[idx - a];
        V1[o] = s;
        if (s > maxV) maxV = s;
      }
      if (maxV > 0 && maxV < EM128) {
        for (let o = 0; o < npwrs; o++) V1[o] *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clamp01(ans);
}

/** P(D_n <= x): Pelz & Good (1976) expansion, for large n. */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let c = 0; c < 4; c++) K[c] = K[c] * qpower + coeffs[c];
  }
  const denom = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let c = 0; c < 4; c++) K[c] = (K[c] * q * SQRT_2PI) / denom[c];
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qp = q ** k2;
    const kpi = Math.PI * k;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2] += (k2extra * PI2 * SQRT_2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let c = 0; c < 4; c++) sum += K[c] / n ** (c / 2);
  return sum;
}

/**
 * One-sided Smirnov survival function P(D_n^+ >= x) (scipy.special.smirnov), by the
 * Birnbaum-Tingey sum  x * sum_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v),
 * every term evaluated in log space (all terms are positive, so there is no cancellation).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    // x <= 1/n: P(D+ < x) = x (1+x)^(n-1)
    return 1 - x * (1 + x) ** (n - 1);
  }
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) return Math.exp(-((6 * n * x + 1) ** 2) / 18 / n);
  const last = n - nxfl - 1; // terms with 1 - x - v/n > 0
  let logC = 0; // log C(n, v)
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    if (v > 0) logC += Math.log((n - v + 1) / v);
    const a = x + v / n;
    const b = (n - v) / n - x;
    if (b <= 0) break;
    const logTerm = logC + (v - 1) * Math.log(a) + (n - v) * Math.log(b);
    sum += Math.exp(logTerm);
  }
  return clamp01(x * sum);
}
