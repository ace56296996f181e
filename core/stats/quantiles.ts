/**
 * Quantiles of sorted samples, and the bounded quantile summary a reference profile stores.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

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

/** The middle value of `xs` in any order; the mean of the two middle values for an even count; NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
