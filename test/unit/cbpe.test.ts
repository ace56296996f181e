import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calibrateCbpe, calibratedProbabilities, estimatedAccuracy, expectedConfusion } from '../../core/estimation/cbpe.ts';
import { fitIsotonic, poolAdjacentViolators, predictIsotonic } from '../../core/stats/isotonic.ts';

/*
 * Reference values: scikit-learn 1.9.1 in the project venv,
 * IsotonicRegression(out_of_bounds='clip', increasing=True) (NannyML's IsotonicCalibrator), and
 * NannyML's multiclass CBPE steps written out in numpy (per-class fits, rows divided by their sum,
 * mean calibrated probability of the predicted class):
 *
 *   r = IsotonicRegression(out_of_bounds='clip', increasing=True).fit(x, y, sample_weight=w)
 *   r.X_thresholds_, r.y_thresholds_, r.predict([...])
 *   cal = [IsotonicRegression(...).fit(P[:, k], (Y == k).astype(float)) for k in range(3)]
 *   C = np.column_stack([cal[k].predict(A[:, k]) for k in range(3)]); C /= C.sum(axis=1)[:, None]
 *   np.mean(C[np.arange(len(A)), pred])
 */

const close = (actual: number, expected: number, tolerance = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected}`);
const closeAll = (actual: readonly number[], expected: readonly number[]) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => close(v, expected[i]));
};

describe('isotonic regression (PAVA, as scikit-learn)', () => {
  it('pools adjacent violators (by hand: 1,0 pool to 0.5; 1,0 again to 0.5; 1 stays)', () => {
    assert.deepEqual(poolAdjacentViolators([1, 0, 1, 0, 1], [1, 1, 1, 1, 1]), [0.5, 0.5, 0.5, 0.5, 1]);
  });

  it('keeps the ends and the points where the fit changes; interpolates and clips', () => {
    const fit = fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5], [1, 0, 1, 0, 1]);
    assert.deepEqual(fit, { x: [0.1, 0.4, 0.5], y: [0.5, 0.5, 1] });
    closeAll(
      [0.45, 0.05, 0.9, 0.25].map((v) => predictIsotonic(fit, v)),
      [0.75, 0.5, 1, 0.5],
    );
  });

  it('merges equal x by weighted mean and weighs points (scikit-learn reference)', () => {
    const fit = fitIsotonic([0.3, 0.1, 0.3, 0.7, 0.5, 0.9, 0.5, 0.2], [0.2, 0.5, 0.9, 0.1, 0.4, 1.0, 0.8, 0.3], [1, 2, 1, 1, 3, 1, 1, 2]);
    closeAll(fit.x, [0.1, 0.2, 0.3, 0.7, 0.9]);
    closeAll(fit.y, [0.4, 0.4, 0.4571428571428572, 0.4571428571428572, 1.0]);
    closeAll(
      [0.0, 0.15, 0.35, 0.6, 0.8, 1.0].map((v) => predictIsotonic(fit, v)),
      [0.4, 0.4, 0.4571428571428572, 0.4571428571428572, 0.7285714285714288, 1.0],
    );
  });

  it('a single distinct x predicts its mean everywhere; bad input is refused', () => {
    const fit = fitIsotonic([0.5, 0.5], [0, 1]);
    assert.equal(predictIsotonic(fit, 0.1), 0.5);
    assert.throws(() => fitIsotonic([], []), RangeError);
    assert.throws(() => fitIsotonic([0.1, NaN], [0, 1]), RangeError);
  });
});

describe('CBPE (NannyML)', () => {
  it('binary: calibrates the second class probability; by hand', () => {
    // Sorted by probability the labels are 0,0,1,0,0,1,1,0,1,1: PAVA pools (1,0,0) to 1/3 and
    // (1,1,0) to 2/3. At 0.55 (between 0.4 -> 1/3 and 0.6 -> 2/3) q = 1/3 + 0.75/3 = 0.58333; at
    // 0.45, q = 1/3 + 0.25/3 = 0.41667; 0.15 -> 0 and 0.85 -> 1 (flat runs). Predicted classes
    // 0,1,1,0 are right with probability 1, 0.58333, 1, 0.58333: mean 0.79167.
    const positive = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.35, 0.65];
    const labels = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1];
    const calibration = calibrateCbpe(
      positive.map((p) => [1 - p, p]),
      labels,
    );
    const window = [0.15, 0.55, 0.85, 0.45].map((p) => [1 - p, p]);
    closeAll(
      window.map((row) => calibratedProbabilities(calibration, row)[1]),
      [0, 0.5833333333333334, 1, 0.41666666666666663],
    );
    close(estimatedAccuracy(calibration, window, [0, 1, 1, 0]), 0.7916666666666667);
  });

  const reference = [
    [0.7, 0.2, 0.1],
    [0.6, 0.3, 0.1],
    [0.5, 0.4, 0.1],
    [0.2, 0.7, 0.1],
    [0.3, 0.6, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.1, 0.3, 0.6],
    [0.3, 0.3, 0.4],
    [0.4, 0.4, 0.2],
    [0.8, 0.1, 0.1],
    [0.1, 0.1, 0.8],
  ];
  const referenceLabels = [0, 1, 0, 1, 1, 0, 2, 2, 0, 1, 0, 2];
  const window = [
    [0.65, 0.25, 0.1],
    [0.35, 0.45, 0.2],
    [0.15, 0.15, 0.7],
    [0.45, 0.45, 0.1],
    [0.05, 0.9, 0.05],
  ];
  const predicted = [0, 1, 2, 0, 1];

  it('multiclass: one-vs-rest fits, rows renormalised, mean probability of the predicted class (scikit-learn reference)', () => {
    const calibration = calibrateCbpe(reference, referenceLabels);
    const expected = [
      [0.8181818181818182, 0.18181818181818177, 0.0],
      [0.38095238095238093, 0.619047619047619, 0.0],
      [0.16666666666666669, 0.0, 0.8333333333333334],
      [0.43478260869565216, 0.5652173913043478, 0.0],
      [0.23076923076923078, 0.7692307692307692, 0.0],
    ];
    window.forEach((row, i) => closeAll(calibratedProbabilities(calibration, row), expected[i]));
    close(estimatedAccuracy(calibration, window, predicted), 0.6949152296978384);
    const confusion = expectedConfusion(calibration, window, predicted);
    [
      [1.2529644268774704, 0.6117216117216118, 0.16666666666666669],
      [0.7470355731225296, 1.3882783882783882, 0.0],
      [0.0, 0.0, 0.8333333333333334],
    ].forEach((row, t) => closeAll(confusion[t], row));
  });

  it('the calibration is plain JSON; bad input is refused', () => {
    const calibration = calibrateCbpe(reference, referenceLabels);
    assert.deepEqual(JSON.parse(JSON.stringify(calibration)), calibration);
    assert.throws(() => calibrateCbpe([[0.5, 0.5]], [2]), RangeError);
    assert.throws(() => calibrateCbpe([[1]], [0]), RangeError);
    assert.ok(Number.isNaN(estimatedAccuracy(calibration, [], [])));
  });
});
