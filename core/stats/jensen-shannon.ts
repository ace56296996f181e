/**
 * Jensen-Shannon distance (natural log, so in [0, sqrt(ln 2)]) of two aligned share vectors.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 *
 * Two variants, on purpose: they answer different questions and their recorded results differ.
 * - `jensenShannonShares` is scipy's `jensenshannon` exactly (a zero share contributes nothing;
 *   compensated sums): the `jensenshannon` drift test, which reproduces Evidently.
 * - `jensenShannonSmoothed` first replaces each zero share by PSI_EPSILON (1e-4), so a class never
 *   predicted in a window still counts as a (small) difference: the prediction-drift distance of
 *   core/metrics/prediction-drift.ts, summed left to right as it always was.
 * Merging them would move both the numbers in monitoring reports and the drift test's agreement with
 * scipy, so each keeps its arithmetic.
 */
import { PSI_EPSILON } from './psi.ts';
import { plainSum, sumOf } from './sums.ts';

/** scipy.spatial.distance.jensenshannon(r, c) with base e, for aligned non-negative shares. */
export function jensenShannonShares(r: number[], c: number[]): number {
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

/**
 * scipy.spatial.distance.jensenshannon(p, q) (base e) after replacing zero shares by PSI_EPSILON:
 * sqrt((KL(p || m) + KL(q || m)) / 2) with m = (p + q) / 2, p and q normalised to sum 1.
 * Throws a RangeError when the lengths differ.
 */
export function jensenShannonSmoothed(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`jensenShannonSmoothed: ${p.length} shares but ${q.length}`);
  const pp = normalised(p.map((v) => (v > 0 ? v : PSI_EPSILON)));
  const qq = normalised(q.map((v) => (v > 0 ? v : PSI_EPSILON)));
  let js = 0;
  for (let i = 0; i < pp.length; i++) {
    const m = (pp[i] + qq[i]) / 2;
    js += pp[i] * Math.log(pp[i] / m) + qq[i] * Math.log(qq[i] / m);
  }
  // rounding can leave a tiny negative sum for identical vectors
  return Math.sqrt(Math.max(js, 0) / 2);
}

function normalised(values: number[]): number[] {
  const s = plainSum(values);
  return values.map((v) => v / s);
}
