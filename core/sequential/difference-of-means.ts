/**
 * The regression canary's always-valid test: the difference of the mean squared errors of
 * challenger and champion on labelled predictions (lower is better), judged by the normal-mixture
 * mSPRT (always-valid.ts, after Johari, Pekelis & Walsh, "Always Valid Inference"), with the
 * plug-in variance V = s1²/n1 + s2²/n2 of the two sample variances (Welch's).
 *
 * Each arm is summarised by its moments (count, mean, sum of squared deviations), merged batch by
 * batch with Chan, Golub & LeVeque's pairwise update ("Updating formulae and a pairwise algorithm
 * for computing sample variances", 1979), so a workflow carries three numbers per arm, never rows.
 *
 * The spec's `tolerance` is relative (a canary's RMSE may be up to (1 + tolerance) times the
 * champion's); in squared errors that is the margin ((1 + tolerance)² - 1) * MSE of the champion.
 * Take that MSE from data known before the canary starts (the retrain's holdout), as the margin
 * and τ² must not be fitted on the data being tested.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { lookAt, type SequentialOptions, type SequentialResult, type SequentialState } from './always-valid.ts';

/** Count, mean and sum of squared deviations from the mean of one arm's values. */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

export const EMPTY_MOMENTS: Moments = { n: 0, mean: 0, m2: 0 };

/** The moments of some values (two passes, for accuracy). */
export function momentsOf(values: readonly number[]): Moments {
  const n = values.length;
  if (n === 0) return EMPTY_MOMENTS;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let m2 = 0;
  for (const v of values) m2 += (v - mean) * (v - mean);
  return { n, mean, m2 };
}

/** The moments of two batches together (Chan, Golub & LeVeque). */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** Sample variance (n - 1 in the denominator); NaN below two values. */
export function sampleVariance(m: Moments): number {
  return m.n < 2 ? NaN : m.m2 / (m.n - 1);
}

/** The squared-error margin equivalent to "RMSE at most (1 + tolerance) times the champion's". */
export function squaredErrorMargin(tolerance: number, championMse: number): number {
  return ((1 + tolerance) ** 2 - 1) * championMse;
}

/**
 * One look at the cumulative moments of the squared errors; pass `state` from the previous result
 * (INITIAL_STATE first). The options have no defaults: margin and τ² are in the squared label's
 * units (e.g. margin from squaredErrorMargin, τ² as (a fraction of the champion's MSE)²).
 */
export function meanSequentialTest(
  state: SequentialState,
  champion: Moments,
  challenger: Moments,
  options: SequentialOptions,
): SequentialResult {
  const samples = { champion: champion.n, challenger: challenger.n };
  const effect = challenger.n > 0 && champion.n > 0 ? challenger.mean - champion.mean : NaN;
  const variance = sampleVariance(champion) / champion.n + sampleVariance(challenger) / challenger.n;
  return lookAt(state, { effect, variance, samples }, 'lower-is-better', options);
}
