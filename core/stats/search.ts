/**
 * Binary searches in ascending arrays (numpy's searchsorted, side='left' / 'right').
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

/** First index >= from with sorted[index] >= x (sorted.length when none): searchsorted side='left'. */
export function lowerBound(sorted: ArrayLike<number>, x: number, from = 0): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index >= from with sorted[index] > x (sorted.length when none): searchsorted side='right'. */
export function upperBound(sorted: ArrayLike<number>, x: number, from = 0): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
