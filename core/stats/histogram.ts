/**
 * Equal-width histograms of ascending samples, with numpy's arithmetic (np.histogram_bin_edges,
 * np.histogram): used by the Jensen-Shannon drift test (Sturges bins over both samples) and by the
 * drift report's per-feature histograms (a fixed number of bins).
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { lowerBound, upperBound } from './search.ts';

/**
 * numpy's Sturges bin count for n values between min and max:
 * ceil((max - min) / ((max - min) / (log2(n) + 1))), and 1 for an empty range.
 */
export function sturgesBins(min: number, max: number, n: number): number {
  const width = (max - min) / (Math.log2(n) + 1);
  return width > 0 ? Math.ceil((max - min) / width) : 1;
}

/**
 * `bins` + 1 edges as np.linspace(min, max, bins + 1) does them: e_i = i * ((max - min) / bins) + min,
 * the last edge exactly max. An empty range (min = max) is widened to [min - 0.5, max + 0.5], as numpy
 * does for a degenerate sample. Edges may repeat when `bins` is too large for the range; callers
 * that need distinct edges check.
 */
export function equalWidthEdges(min: number, max: number, bins: number): number[] {
  const first = min === max ? min - 0.5 : min;
  const last = min === max ? max + 0.5 : max;
  const step = (last - first) / bins;
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/**
 * Shares (count / sample size) of an ascending sample in [e_0, e_1), ..., [e_{k-1}, e_k] (the last
 * bin closed, as np.histogram); values outside [e_0, e_k] are in no bin. A binary search per edge.
 */
export function histogramShares(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const shares = new Array<number>(bins);
  let start = lowerBound(sorted, edges[0], 0);
  for (let i = 0; i < bins; i++) {
    // the last bin is closed: everything up to and including the last edge
    const end = i === bins - 1 ? upperBound(sorted, edges[bins], start) : lowerBound(sorted, edges[i + 1], start);
    shares[i] = (end - start) / sorted.length;
    start = end;
  }
  return shares;
}
