/**
 * Regression metrics: MAE, RMSE, mean error and R^2 (sklearn's mean_absolute_error,
 * sqrt(mean_squared_error), r2_score).
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O.
 */
import { plainMean } from '../stats/sums.ts';
import { sameLength } from './shared.ts';

export interface RegressionReport {
  n: number;
  /** mean |predicted - truth| */
  mae: number;
  /** sqrt(mean (predicted - truth)^2) */
  rmse: number;
  /** mean (predicted - truth): the bias; positive = the model over-predicts. */
  meanError: number;
  /**
   * 1 - SS_res / SS_tot, sklearn's r2_score: NaN with fewer than 2 rows; when the truth is constant
   * (SS_tot = 0), 1 for a perfect prediction and 0 otherwise (force_finite=True).
   */
  r2: number;
}

/** Regression metrics; NaN for no rows. Throws a RangeError on different lengths or non-finite values. */
export function regressionReport(input: { truth: readonly number[]; predicted: readonly number[] }): RegressionReport {
  const { truth, predicted } = input;
  sameLength('regressionReport', truth.length, predicted.length, 'true values');
  for (const [what, values] of [
    ['truth', truth],
    ['predicted', predicted],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`regressionReport: ${what}[${bad}] is ${values[bad]}, not a finite number`);
  }
  const n = truth.length;
  if (n === 0) return { n, mae: NaN, rmse: NaN, meanError: NaN, r2: NaN };
  let absSum = 0;
  let sqSum = 0;
  let errSum = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - truth[i];
    absSum += Math.abs(e);
    sqSum += e * e;
    errSum += e;
  }
  return { n, mae: absSum / n, rmse: Math.sqrt(sqSum / n), meanError: errSum / n, r2: rSquared(truth, sqSum) };
}

function rSquared(truth: readonly number[], ssRes: number): number {
  const n = truth.length;
  if (n < 2) return NaN;
  const m = plainMean(truth);
  let ssTot = 0;
  for (const v of truth) ssTot += (v - m) ** 2;
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}
