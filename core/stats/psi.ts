/**
 * The population stability index (PSI) with quantile bins from the reference sample. It is the
 * `psi` drift test (core/drift/tests/psi.ts), and PSI_EPSILON is also the zero-share substitute of
 * the prediction-drift Jensen-Shannon distance (jensen-shannon.ts).
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { quantileSorted } from './quantiles.ts';
import { sortedWithoutNaN } from './sort.ts';

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
 * Shares of an ascending sample in the bins (-inf, c0], (c0, c1], ..., (c_last, inf): closed on the
 * right, unlike histogram.ts (numpy's [e_i, e_i+1)), because PSI's cut points are quantiles.
 */
function binShares(sorted: Float64Array, cuts: number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (bin < cuts.length && sorted[i] > cuts[bin]) bin++;
    counts[bin]++;
  }
  return counts.map((c) => c / sorted.length);
}
