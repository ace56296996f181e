/**
 * Data-drift tests for one feature: the current window against the reference profile saved with the
 * model at training time (ml/bundle.ts FeatureProfile: an ascending `sample` for numeric features,
 * `counts` per value for category features).
 *
 * PURE module: no Node, tfjs or npm imports. It is imported by Temporal workflow code, so it must
 * stay deterministic and free of I/O.
 *
 * The tests, their defaults and the automatic choice follow Evidently's legacy stattests
 * (evidently/legacy/calculations/stattests/*.py); every formula is documented where it is
 * implemented, with the places where this module deliberately differs.
 *
 * `numericDriftSorted` is `featureDrift` for numeric samples that are already ascending
 * Float64Arrays (core/drift/data-drift.ts sorts each current column once and reuses the sort).
 *
 * | test          | features | result    | default threshold | drift when            |
 * | ------------- | -------- | --------- | ----------------- | --------------------- |
 * | ks            | number   | p-value   | 0.05              | p < threshold         |
 * | psi           | number   | distance  | 0.1               | statistic >= threshold|
 * | wasserstein   | number   | distance  | 0.1               | statistic >= threshold|
 * | jensenshannon | both     | distance  | 0.1               | statistic >= threshold|
 * | chisquare     | category | p-value   | 0.05              | p < threshold         |
 * | linf          | category | distance  | 0.1               | statistic >= threshold|
 */

import { kolmogorovSf, ksTwoSample, psi, psiSorted, roundHalfEven, type KsResult } from '../stats/ks.ts';

// ---------------------------------------------------------------------------------------------
// catalogue

/** Every drift test, for spec schemas: `z.enum(DRIFT_TEST_NAMES)`. */
export const DRIFT_TEST_NAMES = ['ks', 'psi', 'wasserstein', 'jensenshannon', 'chisquare', 'linf'] as const;
export type DriftTestName = (typeof DRIFT_TEST_NAMES)[number];

export type FeatureKind = 'number' | 'category';

export interface DriftTestInfo {
  /** 'p-value': drift when pValue < threshold. 'distance': drift when statistic >= threshold. */
  readonly result: 'p-value' | 'distance';
  readonly defaultThreshold: number;
  /** Feature kinds the test applies to. */
  readonly features: readonly FeatureKind[];
}

/** Result kind, default threshold and applicable feature kinds of each test. */
export const DRIFT_TESTS = {
  ks: { result: 'p-value', defaultThreshold: 0.05, features: ['number'] },
  psi: { result: 'distance', defaultThreshold: 0.1, features: ['number'] },
  wasserstein: { result: 'distance', defaultThreshold: 0.1, features: ['number'] },
  jensenshannon: { result: 'distance', defaultThreshold: 0.1, features: ['number', 'category'] },
  chisquare: { result: 'p-value', defaultThreshold: 0.05, features: ['category'] },
  linf: { result: 'distance', defaultThreshold: 0.1, features: ['category'] },
} as const satisfies Record<DriftTestName, DriftTestInfo>;

/** The automatic choice uses the small-sample tests up to this many current rows (inclusive). */
export const AUTO_TEST_MAX_ROWS = 1000;

/** Per-feature override of the automatic choice; either field may be left out. */
export type DriftTestChoice = { test?: DriftTestName; threshold?: number };

export type FeatureDriftInput =
  | { kind: 'number'; /** ascending sample */ reference: number[]; current: number[] }
  | { kind: 'category'; reference: Record<string, number>; current: Record<string, number> };

export interface FeatureDriftResult {
  test: DriftTestName;
  /** The test statistic: KS D, chi-square X², or the distance. */
  statistic: number;
  /** Only for p-value tests (ks, chisquare). */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  /** Current rows the test saw: finite values (number) or the sum of the counts (category). */
  rows: number;
}

/**
 * Thrown for a test that does not apply to the feature kind, an invalid threshold, or a sample
 * with nothing to compare (empty, or only non-finite values / zero counts). Callers skip the feature.
 */
export class DriftTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriftTestError';
  }
}

// ---------------------------------------------------------------------------------------------
// the per-feature entry point

/**
 * Runs one drift test on one feature.
 *
 * Automatic choice (no `choice.test`), Evidently's default with the row count taken from the
 * current window: numeric features use `ks` up to AUTO_TEST_MAX_ROWS (1000) current rows and
 * `wasserstein` beyond; category features use `chisquare` up to 1000 rows and `jensenshannon`
 * beyond. (Evidently counts the reference rows instead, and also switches to chi-square / z-test /
 * Jensen-Shannon for numeric columns with at most 5 distinct values; neither is done here: the
 * reference is a bounded sample, and overrides cover the rest.)
 *
 * `choice.threshold` replaces the test's default threshold (DRIFT_TESTS). A p-value test drifts
 * when pValue < threshold, a distance when statistic >= threshold.
 *
 * Numeric samples drop non-finite values (as the profile's sample does); category counts must be
 * finite and non-negative. Throws DriftTestError when the test does not apply to the feature kind,
 * the threshold is invalid, or either side is empty.
 */
export function featureDrift(input: FeatureDriftInput, choice: DriftTestChoice = {}): FeatureDriftResult {
  const rows = input.kind === 'number' ? countFinite(input.current) : categoryTotal(input.current, 'current');
  if (rows === 0) throw new DriftTestError(`featureDrift: the current window has no ${input.kind === 'number' ? 'numeric values' : 'category values'}`);
  const refRows = input.kind === 'number' ? countFinite(input.reference) : categoryTotal(input.reference, 'reference');
  if (refRows === 0) throw new DriftTestError(`featureDrift: the reference has no ${input.kind === 'number' ? 'numeric values' : 'category values'}`);

  const { test, threshold } = resolveChoice('featureDrift', input.kind, rows, choice);
  const { statistic, pValue } = input.kind === 'number' ? runNumeric(test, input.reference, input.current) : runCategory(test, input.reference, input.current);
  return outcome(test, threshold, rows, statistic, pValue);
}

/**
 * `featureDrift` for a numeric feature whose samples are already ascending Float64Arrays of finite
 * values (e.g. a profile sample and a current column sorted once by the caller): the same
 * automatic choice, thresholds, statistics and results, without copying or re-sorting either side.
 * For large windows this is the difference between O(n) and O(n log n) per test, and it lets the
 * caller reuse its sort (for a histogram, say).
 *
 * Throws a RangeError when either array is not ascending or holds a non-finite value, and
 * DriftTestError as featureDrift does (a test that does not apply, an invalid threshold, an empty side).
 */
export function numericDriftSorted(reference: Float64Array, current: Float64Array, choice: DriftTestChoice = {}): FeatureDriftResult {
  requireAscendingFinite('numericDriftSorted', 'reference', reference);
  requireAscendingFinite('numericDriftSorted', 'current', current);
  const rows = current.length;
  if (rows === 0) throw new DriftTestError('featureDrift: the current window has no numeric values');
  if (reference.length === 0) throw new DriftTestError('featureDrift: the reference has no numeric values');
  const { test, threshold } = resolveChoice('featureDrift', 'number', rows, choice);
  const { statistic, pValue } = runNumericSorted(test, reference, current);
  return outcome(test, threshold, rows, statistic, pValue);
}

/** The test and threshold for a feature: `choice` over the automatic choice, both checked. */
function resolveChoice(what: string, kind: FeatureKind, rows: number, choice: DriftTestChoice): { test: DriftTestName; threshold: number } {
  const test = choice.test ?? autoTest(kind, rows);
  // guards callers that pass unchecked strings (e.g. from JSON)
  if (!(DRIFT_TEST_NAMES as readonly string[]).includes(test)) {
    throw new DriftTestError(`${what}: unknown drift test '${String(test)}' (known: ${DRIFT_TEST_NAMES.join(', ')})`);
  }
  const info: DriftTestInfo = DRIFT_TESTS[test];
  if (!info.features.includes(kind)) {
    throw new DriftTestError(`${what}: the '${test}' test does not apply to ${kind} features (it needs ${info.features.join(' or ')})`);
  }
  const threshold = choice.threshold ?? info.defaultThreshold;
  checkThreshold(test, info, threshold);
  return { test, threshold };
}

function outcome(test: DriftTestName, threshold: number, rows: number, statistic: number, pValue: number | undefined): FeatureDriftResult {
  const drifted = pValue !== undefined ? pValue < threshold : statistic >= threshold;
  return pValue !== undefined ? { test, statistic, pValue, threshold, drifted, rows } : { test, statistic, threshold, drifted, rows };
}

function autoTest(kind: FeatureKind, rows: number): DriftTestName {
  if (kind === 'number') return rows <= AUTO_TEST_MAX_ROWS ? 'ks' : 'wasserstein';
  return rows <= AUTO_TEST_MAX_ROWS ? 'chisquare' : 'jensenshannon';
}

function checkThreshold(test: DriftTestName, info: DriftTestInfo, threshold: number): void {
  const ok = typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0 && (info.result === 'distance' || threshold <= 1);
  if (!ok) {
    const range = info.result === 'p-value' ? 'a p-value threshold in [0, 1]' : 'a finite distance threshold >= 0';
    throw new DriftTestError(`featureDrift: '${test}' needs ${range}, got ${threshold}`);
  }
}

interface TestOutcome {
  statistic: number;
  pValue?: number;
}

function runNumeric(test: DriftTestName, reference: number[], current: number[]): TestOutcome {
  const ref = finiteSorted(reference);
  const cur = finiteSorted(current);
  switch (test) {
    case 'ks': {
      const r = ksTwoSample(ref, cur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'psi':
      return { statistic: psi(ref, cur) };
    case 'wasserstein':
      return { statistic: wassersteinNormed(ref, cur) };
    case 'jensenshannon':
      return { statistic: jensenShannon(ref, cur) };
    default:
      throw new DriftTestError(`featureDrift: the '${test}' test does not apply to number features`);
  }
}

/** runNumeric on ascending finite samples: the same computations, without the copies and sorts. */
function runNumericSorted(test: DriftTestName, ref: Float64Array, cur: Float64Array): TestOutcome {
  switch (test) {
    case 'ks': {
      const r = ksTwoSampleSorted(ref, cur);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'psi':
      return { statistic: psiSorted(ref, cur) };
    case 'wasserstein':
      return { statistic: wasserstein1(ref, cur) / Math.max(populationStd(ref), WASSERSTEIN_MIN_STD) };
    case 'jensenshannon':
      return { statistic: jensenShannonSorted(ref, cur) };
    default:
      throw new DriftTestError(`featureDrift: the '${test}' test does not apply to number features`);
  }
}

function runCategory(test: DriftTestName, reference: Record<string, number>, current: Record<string, number>): TestOutcome {
  switch (test) {
    case 'chisquare': {
      const r = chiSquare(reference, current);
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'jensenshannon':
      return { statistic: jensenShannonCategories(reference, current) };
    case 'linf':
      return { statistic: lInfinity(reference, current) };
    default:
      throw new DriftTestError(`featureDrift: the '${test}' test does not apply to category features`);
  }
}

// ---------------------------------------------------------------------------------------------
// numeric tests

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
  return wasserstein1(ref, cur) / Math.max(populationStd(ref), WASSERSTEIN_MIN_STD);
}

/**
 * Jensen-Shannon distance of two numeric samples, Evidently's `jensenshannon` stattest
 * (utils.get_binned_data with feel_zeroes=False, then scipy.spatial.distance.jensenshannon, base e):
 *
 * - If the reference has more than 20 distinct values: common equal-width bins over the combined
 *   sample, `np.histogram_bin_edges(concat(reference, current), bins='sturges')`, i.e.
 *   ceil(range / (range / (log2(n) + 1))) bins between the combined min and max, n the combined size
 *   (numpy's arithmetic, edges e_i = i * (range / bins) + min, the last edge = max). A value v is in
 *   bin i when e_i <= v < e_{i+1}; the last bin also holds v = max. `bins` (a positive integer)
 *   replaces the Sturges count, as `bins=int` would in numpy.
 * - Otherwise every distinct value of either sample is its own category (as Evidently does for
 *   discrete-looking numeric columns), and `bins` is ignored.
 *
 * Shares are count / sample size, without any epsilon for empty bins (an empty bin on one side
 * simply contributes nothing to that side's relative entropy). Then, as scipy:
 * p = r / sum(r), q = c / sum(c), m = (p + q) / 2,
 * JS = sqrt((sum p ln(p/m) + sum q ln(q/m)) / 2), terms with a zero share being 0.
 * Range 0 (identical) .. sqrt(ln 2) = 0.8326 (disjoint supports). Non-finite values are ignored.
 * Throws DriftTestError when either sample has no finite value or `bins` is not a positive integer.
 */
export function jensenShannon(reference: ArrayLike<number>, current: ArrayLike<number>, bins?: number): number {
  if (bins !== undefined && !(Number.isInteger(bins) && bins >= 1)) {
    throw new DriftTestError(`jensenShannon: bins must be a positive integer, got ${bins}`);
  }
  const ref = finiteSorted(reference);
  const cur = finiteSorted(current);
  requireNonEmpty('jensenShannon', ref.length, cur.length);
  return jensenShannonSorted(ref, cur, bins);
}

/** jensenShannon of two non-empty ascending finite samples. */
function jensenShannonSorted(ref: Float64Array, cur: Float64Array, bins?: number): number {
  if (distinctCount(ref) > JS_MAX_DISCRETE_VALUES) {
    const edges = histogramEdges(ref, cur, bins);
    return jensenShannonShares(histogramShares(ref, edges), histogramShares(cur, edges));
  }
  const [r, c] = alignedShares(valueCounts(ref), valueCounts(cur));
  return jensenShannonShares(r, c);
}

/** Evidently bins numeric features only when the reference has more distinct values than this. */
export const JS_MAX_DISCRETE_VALUES = 20;

// ---------------------------------------------------------------------------------------------
// numeric tests on already sorted samples (numericDriftSorted)

/**
 * `ksTwoSample` (core/stats.ts, scipy's ks_2samp) for two ascending Float64Arrays, without copying
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
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) return ksTwoSample(x, y);
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
  consider(0, searchSorted(large, small[0], false));
  for (let k = 0; k < ns; ) {
    const v = small[k];
    while (k < ns && small[k] === v) k++; // k = #small <= v
    consider(k, searchSorted(large, v, true));
    consider(k, k < ns ? searchSorted(large, small[k], false) : nl);
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

/** Values of an ascending array < v (inclusive false) or <= v (inclusive true). */
function searchSorted(sorted: Float64Array, v: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v || (inclusive && sorted[mid] === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** scipy's MAX_AUTO_N, as in core/stats.ts: exact KS p-values up to this many values per sample. */
const KS_MAX_EXACT_N = 10_000;

function requireAscendingFinite(what: string, side: string, values: Float64Array): void {
  if (!(values instanceof Float64Array)) throw new RangeError(`${what}: the ${side} sample must be a Float64Array`);
  let prev = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is NaN for NaN and +/-Infinity; v < prev catches a descent
    if (!(v - v === 0) || v < prev) throw new RangeError(`${what}: the ${side} sample must be ascending and finite (index ${i}: ${v})`);
    prev = v;
  }
}


// ---------------------------------------------------------------------------------------------
// category tests (counts per category, as in FeatureProfile.counts)

/**
 * Jensen-Shannon distance of two category distributions, Evidently's `jensenshannon` stattest for
 * categorical columns: shares count / total over the union of categories with a positive count on
 * either side (missing = 0), no epsilon, then scipy's jensenshannon (base e) as in `jensenShannon`.
 * Categories unseen on one side need no special handling: 0 ln(0 / m) = 0.
 * Throws DriftTestError when either side has no positive count or a count is negative / not finite.
 */
export function jensenShannonCategories(referenceCounts: Record<string, number>, currentCounts: Record<string, number>): number {
  requireCategoryTotals('jensenShannonCategories', referenceCounts, currentCounts);
  const [r, c] = alignedShares(countMap(referenceCounts), countMap(currentCounts));
  return jensenShannonShares(r, c);
}

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

// ---------------------------------------------------------------------------------------------
// chi-square distribution

/**
 * Survival function of the chi-square distribution with `df` degrees of freedom,
 * P(X >= x) = Q(df/2, x/2) (regularized upper incomplete gamma), as scipy.stats.chi2.sf.
 * Returns 1 for x <= 0, 0 for x = Infinity, NaN for NaN or df <= 0.
 */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return regularizedGammaQ(df / 2, x / 2);
}

const GAMMA_EPS = 1e-16;
const GAMMA_MAX_ITERATIONS = 100_000;
const TINY = 1e-300;

/**
 * Q(a, x) = Γ(a, x) / Γ(a), following Numerical Recipes (gammq): the series for P = 1 - Q when
 * x < a + 1 (there P is not close to 1, so 1 - P keeps full relative precision), the continued
 * fraction (modified Lentz) for Q itself otherwise, which keeps tiny tail probabilities accurate.
 */
function regularizedGammaQ(a: number, x: number): number {
  // log of the common prefactor x^a e^-x / Γ(a), computed in log space against overflow
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < GAMMA_MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * GAMMA_EPS) break;
    }
    return clamp01(1 - sum * Math.exp(logPrefactor));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPS) break;
  }
  return clamp01(Math.exp(logPrefactor) * h);
}

// Stirling series coefficients B_{2j} / (2j (2j - 1)), j = 1..8.
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln Γ(a) for a > 0: shifted up to a >= 15 by Γ(a) = Γ(a + n) / (a (a+1) ... (a+n-1)), then
 * Stirling's series, whose truncation error there is far below double precision.
 */
function logGamma(a: number): number {
  let x = a;
  let product = 1;
  while (x < 15) {
    product *= x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  let series = 0;
  for (let j = STIRLING.length - 1; j >= 0; j--) series = series * inv2 + STIRLING[j];
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series * inv - Math.log(product);
}

// ---------------------------------------------------------------------------------------------
// helpers: numeric samples

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort(); // typed-array sort is numeric
}

function countFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  return n;
}

function requireNonEmpty(what: string, refLength: number, curLength: number): void {
  if (refLength === 0 || curLength === 0) {
    throw new DriftTestError(`${what}: both samples need at least one finite value (reference ${refLength}, current ${curLength})`);
  }
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

/** np.std (ddof = 0): sqrt(mean((x - mean)^2)), the two-pass formula. */
function populationStd(x: Float64Array): number {
  const mean = sumOf(x) / x.length;
  const squares = Array.from(x, (v) => (v - mean) * (v - mean));
  return Math.sqrt(sumOf(squares) / x.length);
}

function distinctCount(sorted: Float64Array): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

function valueCounts(sorted: Float64Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/**
 * numpy's histogram_bin_edges over the combined sample (both ascending): `bins` equal-width bins,
 * or the Sturges count ceil((max - min) / ((max - min) / (log2(n) + 1))) when `bins` is undefined.
 */
function histogramEdges(a: Float64Array, b: Float64Array, bins: number | undefined): number[] {
  const dataMin = Math.min(a[0], b[0]);
  const dataMax = Math.max(a[a.length - 1], b[b.length - 1]);
  // numpy widens an empty range to [min - 0.5, max + 0.5] (a degenerate sample)
  const first = dataMin === dataMax ? dataMin - 0.5 : dataMin;
  const last = dataMin === dataMax ? dataMax + 0.5 : dataMax;
  let count = bins;
  if (count === undefined) {
    const width = (dataMax - dataMin) / (Math.log2(a.length + b.length) + 1);
    count = width > 0 ? Math.ceil((last - first) / width) : 1;
  }
  // np.linspace(first, last, count + 1): i * step + first, the last edge exactly `last`
  const step = (last - first) / count;
  const edges = Array.from({ length: count + 1 }, (_, i) => i * step + first);
  edges[count] = last;
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1])) throw new DriftTestError(`jensenShannon: too many bins (${count}) for the data range`);
  }
  return edges;
}

/** Shares of an ascending sample in [e_0, e_1), ..., [e_{k-1}, e_k] (numpy's np.histogram). */
function histogramShares(sorted: Float64Array, edges: number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let i = 0;
  while (i < sorted.length && sorted[i] < edges[0]) i++;
  for (let bin = 0; bin < bins; bin++) {
    const upper = edges[bin + 1];
    const lastBin = bin === bins - 1;
    while (i < sorted.length && (sorted[i] < upper || (lastBin && sorted[i] === upper))) {
      counts[bin]++;
      i++;
    }
  }
  return counts.map((c) => c / sorted.length);
}

// ---------------------------------------------------------------------------------------------
// helpers: categories and shares

function categoryTotal(counts: Record<string, number>, side: string): number {
  let total = 0;
  for (const [key, count] of Object.entries(counts)) {
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      throw new DriftTestError(`${side} count of category '${key}' must be a finite number >= 0, got ${count}`);
    }
    total += count;
  }
  return total;
}

function requireCategoryTotals(what: string, reference: Record<string, number>, current: Record<string, number>): void {
  const r = categoryTotal(reference, `${what}: reference`);
  const c = categoryTotal(current, `${what}: current`);
  if (r === 0 || c === 0) throw new DriftTestError(`${what}: both sides need a positive count (reference ${r}, current ${c})`);
}

function countMap(counts: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(counts));
}

/**
 * Keys with a positive count on either side, sorted (so the result does not depend on the
 * insertion order of the records; sums are then always taken in the same order).
 */
function unionKeys<K extends string | number>(a: Map<K, number>, b: Map<K, number>): K[] {
  const keys = new Set<K>();
  for (const [k, n] of a) if (n > 0) keys.add(k);
  for (const [k, n] of b) if (n > 0) keys.add(k);
  const sorted = [...keys];
  return typeof sorted[0] === 'number' ? sorted.sort((p, q) => (p as number) - (q as number)) : sorted.sort();
}

/** Shares count / total of both sides over the union of their keys (0 where a key is absent). */
function alignedShares<K extends string | number>(a: Map<K, number>, b: Map<K, number>): [number[], number[]] {
  const keys = unionKeys(a, b);
  const totalA = sumOf(keys.map((k) => a.get(k) ?? 0));
  const totalB = sumOf(keys.map((k) => b.get(k) ?? 0));
  return [keys.map((k) => (a.get(k) ?? 0) / totalA), keys.map((k) => (b.get(k) ?? 0) / totalB)];
}

/** scipy.spatial.distance.jensenshannon(r, c) with base e, for aligned non-negative shares. */
function jensenShannonShares(r: number[], c: number[]): number {
  const totalR = sumOf(r);
  const totalC = sumOf(c);
  const p = r.map((v) => v / totalR);
  const q = c.map((v) => v / totalC);
  const m = p.map((v, i) => (v + q[i]) / 2);
  const js = sumOf(p.map((v, i) => relEntr(v, m[i]))) + sumOf(q.map((v, i) => relEntr(v, m[i])));
  // Rounding can leave a tiny negative sum for (nearly) equal distributions; the distance is then 0.
  return Math.sqrt(Math.max(js / 2, 0));
}

/** scipy.special.rel_entr for x >= 0, y > 0 wherever x > 0 (always true against the mixture m). */
function relEntr(x: number, y: number): number {
  return x > 0 ? x * Math.log(x / y) : 0;
}

/** Neumaier-compensated sum: stays within an ulp or two of numpy's pairwise sums on long inputs. */
function sumOf(values: ArrayLike<number>): number {
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

function clamp01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}
