/**
 * `jensenshannon` drift test (numeric and category features): the Jensen-Shannon distance of the
 * two sides' shares (core/stats/jensen-shannon.ts, scipy's variant), numeric samples binned as
 * Evidently's `jensenshannon` stattest bins them. Drift when the distance reaches the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { DriftTestError } from '../catalogue.ts';
import { equalWidthEdges, histogramShares, sturgesBins } from '../../stats/histogram.ts';
import { jensenShannonShares } from '../../stats/jensen-shannon.ts';
import { finiteSorted } from '../../stats/sort.ts';
import { alignedShares, countMap, requireCategoryTotals, requireNonEmpty, type TestOutcome } from './inputs.ts';

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

/**
 * Edges for jensenShannonSorted: `bins` equal-width bins over the combined sample (both
 * ascending), or numpy's Sturges count when `bins` is undefined. Throws DriftTestError when the
 * range is too narrow for that many distinct edges.
 */
function histogramEdges(a: Float64Array, b: Float64Array, bins: number | undefined): number[] {
  const dataMin = Math.min(a[0], b[0]);
  const dataMax = Math.max(a[a.length - 1], b[b.length - 1]);
  const count = bins ?? sturgesBins(dataMin, dataMax, a.length + b.length);
  const edges = equalWidthEdges(dataMin, dataMax, count);
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1])) throw new DriftTestError(`jensenShannon: too many bins (${count}) for the data range`);
  }
  return edges;
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

export function jensenShannonTest(reference: Float64Array, current: Float64Array): TestOutcome {
  return { statistic: jensenShannonSorted(reference, current) };
}

export function jensenShannonCategoriesTest(reference: Record<string, number>, current: Record<string, number>): TestOutcome {
  return { statistic: jensenShannonCategories(reference, current) };
}
