/**
 * Isotonic regression: the non-decreasing step function closest to the data in weighted least
 * squares, found by the pool-adjacent-violators algorithm (PAVA; Ayer et al. 1955, Barlow et al.
 * "Statistical Inference under Order Restrictions", 1972), fitted and predicted as scikit-learn's
 * `IsotonicRegression(increasing=True, out_of_bounds='clip')` does, the calibrator NannyML's CBPE
 * uses (core/estimation/cbpe.ts):
 * - fit: sort by x; values with the same x become one point (weighted mean y, summed weight); PAVA
 *   on those; points in the middle of a constant run are dropped (they change no prediction);
 * - predict: linear interpolation between the remaining points; x outside the fitted range is
 *   clipped to it; a fit on a single distinct x predicts its value everywhere.
 * The fit is plain JSON (two short arrays), so it can travel through workflow history.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

export interface IsotonicFit {
  /** Ascending distinct x of the kept points. */
  x: number[];
  /** Their fitted, non-decreasing values. */
  y: number[];
}

/** Throws a RangeError on no data, different lengths, or a non-finite value. */
export function fitIsotonic(x: readonly number[], y: readonly number[], weights?: readonly number[]): IsotonicFit {
  if (x.length === 0 || x.length !== y.length || (weights && weights.length !== x.length))
    throw new RangeError('fitIsotonic: need as many x as y (and weights), at least one');
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i]) || (weights && !(weights[i] > 0)))
      throw new RangeError(`fitIsotonic: value ${i} is not finite (or its weight not positive)`);
  }
  const order = Array.from(x, (_, i) => i).sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  // Merge equal x: their weighted mean y, their summed weight.
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  for (const i of order) {
    const w = weights ? weights[i] : 1;
    const last = ux.length - 1;
    if (last >= 0 && ux[last] === x[i]) {
      uy[last] = (uy[last] * uw[last] + y[i] * w) / (uw[last] + w);
      uw[last] += w;
    } else {
      ux.push(x[i]);
      uy.push(y[i]);
      uw.push(w);
    }
  }
  const fitted = poolAdjacentViolators(uy, uw);
  // Keep the ends and every point where the fitted value changes on either side.
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = 0; i < ux.length; i++) {
    const interior = i > 0 && i < ux.length - 1;
    if (interior && fitted[i - 1] === fitted[i] && fitted[i] === fitted[i + 1]) continue;
    keptX.push(ux[i]);
    keptY.push(fitted[i]);
  }
  return { x: keptX, y: keptY };
}

/**
 * PAVA: scan left to right keeping blocks of pooled values; whenever a block's mean falls below the
 * previous block's, merge them (and keep merging backwards). Each value ends as its block's
 * weighted mean.
 */
export function poolAdjacentViolators(values: readonly number[], weights: readonly number[]): number[] {
  const mean: number[] = [];
  const weight: number[] = [];
  const size: number[] = [];
  for (let i = 0; i < values.length; i++) {
    mean.push(values[i]);
    weight.push(weights[i]);
    size.push(1);
    while (mean.length > 1 && mean[mean.length - 2] > mean[mean.length - 1]) {
      const w = weight[weight.length - 2] + weight[weight.length - 1];
      const m = (mean[mean.length - 2] * weight[weight.length - 2] + mean[mean.length - 1] * weight[weight.length - 1]) / w;
      const s = size[size.length - 2] + size[size.length - 1];
      mean.splice(-2, 2, m);
      weight.splice(-2, 2, w);
      size.splice(-2, 2, s);
    }
  }
  const out: number[] = [];
  for (let b = 0; b < mean.length; b++) for (let k = 0; k < size[b]; k++) out.push(mean[b]);
  return out;
}

/** The fitted function at v: linear between the kept points, clipped to their range. */
export function predictIsotonic(fit: IsotonicFit, v: number): number {
  const { x, y } = fit;
  if (x.length === 1 || v <= x[0]) return y[0];
  const last = x.length - 1;
  if (v >= x[last]) return y[last];
  // First kept x above v (binary search); v lies in [x[hi - 1], x[hi]).
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= v) lo = mid;
    else hi = mid;
  }
  const t = (v - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + t * (y[hi] - y[lo]);
}
