/**
 * Label-free accuracy of a classifier: NannyML's Confidence-Based Performance Estimation (CBPE;
 * NannyML docs, "How it works: Performance Estimation"). When a model's probabilities are
 * calibrated, the probability it gives its predicted class is the chance that prediction is right,
 * so a window's expected accuracy is the mean of those probabilities, with no label needed.
 *
 * 1. Calibrate on reference data with labels (e.g. the champion's holdout), as NannyML does:
 *    - binary (two classes): one isotonic regression of "the label is the second class" on the
 *      model's probability of the second class; calibrated probabilities are [1 - q, q];
 *    - multiclass: one isotonic regression per class, one-vs-rest (label is class k, on the
 *      probability of class k); a row's calibrated probabilities are then divided by their sum
 *      (a uniform row when the sum is 0).
 *    The isotonic regression is scikit-learn's (core/stats/isotonic.ts).
 * 2. Estimate on a window without labels: expected accuracy = mean over rows of the calibrated
 *    probability of the class the model predicted; the expected confusion matrix adds each row's
 *    calibrated probabilities into the column of its predicted class.
 *
 * Unlike NannyML, calibration is always applied: NannyML first checks, with 10 random stratified
 * splits, whether calibration lowers the expected calibration error, and skips it otherwise; that
 * check draws random numbers and decides little on reference sets of a few hundred rows.
 * CBPE assumes the relation between probabilities and correctness does not change (no concept
 * drift): it tracks the effect of input drift on accuracy, not a change in what the labels mean.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { fitIsotonic, predictIsotonic, type IsotonicFit } from '../stats/isotonic.ts';

/** Calibration learned from reference data: plain JSON. */
export interface CbpeCalibration {
  classes: number;
  /** Binary: one fit, for the second class. Multiclass: one fit per class. */
  fits: IsotonicFit[];
}

/**
 * `probabilities[i]` is the model's probability vector for row i (one entry per class, in the
 * model's class order) and `labels[i]` the index of its true class. Throws a RangeError on
 * mismatched or empty input, or fewer than two classes.
 */
export function calibrateCbpe(probabilities: readonly (readonly number[])[], labels: readonly number[]): CbpeCalibration {
  if (probabilities.length === 0 || probabilities.length !== labels.length)
    throw new RangeError('calibrateCbpe: need one probability vector per label, at least one');
  const classes = probabilities[0].length;
  if (classes < 2) throw new RangeError('calibrateCbpe: need at least two classes');
  for (const [i, row] of probabilities.entries()) {
    if (row.length !== classes) throw new RangeError(`calibrateCbpe: row ${i} has ${row.length} probabilities, not ${classes}`);
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes)
      throw new RangeError(`calibrateCbpe: label ${i} is not a class index below ${classes}`);
  }
  const fitClass = (k: number) =>
    fitIsotonic(
      probabilities.map((row) => row[k]),
      labels.map((label) => (label === k ? 1 : 0)),
    );
  const fits = classes === 2 ? [fitClass(1)] : Array.from({ length: classes }, (_, k) => fitClass(k));
  return { classes, fits };
}

/** A row's calibrated probabilities (step 1 of the header). */
export function calibratedProbabilities(calibration: CbpeCalibration, row: readonly number[]): number[] {
  const { classes, fits } = calibration;
  if (classes === 2) {
    const q = predictIsotonic(fits[0], row[1]);
    return [1 - q, q];
  }
  const raw = fits.map((fit, k) => predictIsotonic(fit, row[k]));
  let sum = 0;
  for (const p of raw) sum += p;
  return sum > 0 ? raw.map((p) => p / sum) : raw.map(() => 1 / classes);
}

/**
 * The expected confusion matrix of a window: entry [t][p] is the expected number of rows whose true
 * class is t among those the model predicted as p (`predicted[i]` is row i's predicted class index).
 */
export function expectedConfusion(
  calibration: CbpeCalibration,
  probabilities: readonly (readonly number[])[],
  predicted: readonly number[],
): number[][] {
  if (probabilities.length !== predicted.length) throw new RangeError('expectedConfusion: one predicted class per row');
  const { classes } = calibration;
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < probabilities.length; i++) {
    const p = predicted[i];
    if (!Number.isInteger(p) || p < 0 || p >= classes) throw new RangeError(`expectedConfusion: predicted class of row ${i}`);
    const calibrated = calibratedProbabilities(calibration, probabilities[i]);
    for (let t = 0; t < classes; t++) matrix[t][p] += calibrated[t];
  }
  return matrix;
}

/** Expected accuracy of a window: the mean calibrated probability of each row's predicted class. NaN for no rows. */
export function estimatedAccuracy(
  calibration: CbpeCalibration,
  probabilities: readonly (readonly number[])[],
  predicted: readonly number[],
): number {
  if (probabilities.length === 0) return NaN;
  const matrix = expectedConfusion(calibration, probabilities, predicted);
  let trace = 0;
  for (let k = 0; k < calibration.classes; k++) trace += matrix[k][k];
  return trace / probabilities.length;
}
