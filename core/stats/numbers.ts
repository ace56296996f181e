/**
 * Small arithmetic helpers shared by the statistics (core/stats/*), the drift tests and the metrics.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

/** v limited to [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** A probability limited to [0, 1] (rounding can step just outside). */
export function clamp01(p: number): number {
  return clamp(p, 0, 1);
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
export function ldexp(x: number, e: number): number {
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

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
