import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshDetectors, summarizeCycle, type CycleInput } from '../../core/monitoring-cycle.ts';
import { metricValue } from '../../core/monitoring.ts';
import { ModelSpec } from '../../core/spec.ts';

/*
 * A regression model's monitoring cycle. Reference values by hand (and scikit-learn's
 * mean_absolute_error / mean_squared_error on the same four pairs):
 *   truth     10, 12, 20, 9  (the third accepted: its truth is the prediction)
 *   predicted 11, 12, 20, 5
 *   errors    -1,  0,  0, 4 -> MAE 5/4 = 1.25, RMSE sqrt(17/4) = 2.0616, mean error (pred - truth) -3/4
 * With a training error quantile of 2, the error stream is 0 0 0 1, then 1 for the override
 * that gave no value.
 */
const spec = ModelSpec.parse({ name: 'mpg', features: [{ name: 'weight' }], label: { name: 'mpg', type: 'number' } });

function cycle(over: Partial<CycleInput> = {}): ReturnType<typeof summarizeCycle> {
  const item = (predicted: number, feedback: CycleInput['feedback'][number]['feedback']) => ({
    predicted: String(predicted),
    feedback,
    probabilities: {},
    features: { weight: 3000 },
  });
  return summarizeCycle({
    spec,
    policies: spec.policies,
    cycle: 1,
    championVersion: '1',
    at: '2026-11-22T00:00:00Z',
    profile: {
      features: { weight: { n: 4, min: 2900, max: 3100, sample: [2900, 3000, 3000, 3100] } },
      classCounts: {},
      target: { sample: [9, 10, 12, 20] },
      errorThreshold: 2,
    },
    feedback: [
      item(11, { kind: 'label', label: '10' }),
      item(12, { kind: 'label', label: '12' }),
      item(20, { kind: 'accepted' }),
      item(5, { kind: 'overridden', label: '9' }),
      item(7, { kind: 'overridden' }),
    ],
    detectors: freshDetectors(),
    window: [11, 12, 20, 5, 7].map((v) => ({ version: '1', features: { weight: 3000 }, label: String(v), probabilities: {} })),
    pendingRows: 0,
    newLabels: 4,
    newRows: 5,
    ...over,
  });
}

describe('summarizeCycle for a regression model', () => {
  it('measures MAE, RMSE and the bias on the feedback with a true value, and no class metrics', () => {
    const { performance } = cycle().summary;
    assert.equal(performance.n, 5);
    assert.equal(performance.regression!.n, 4);
    assert.equal(performance.regression!.mae, 1.25);
    assert.ok(Math.abs(performance.regression!.rmse! - Math.sqrt(17 / 4)) < 1e-12);
    assert.equal(performance.regression!.meanError, -0.75);
    for (const key of ['accuracy', 'precisionMacro', 'recallMacro', 'f1Macro', 'logLoss'] as const)
      assert.equal(performance[key], null, key);
    assert.deepEqual(performance.perClass, {});
  });

  it('lets policies read mae, rmse and r2, and reads prediction drift from the predicted numbers', () => {
    const { summary } = cycle();
    assert.equal(metricValue(summary, 'mae', { nowMs: 0 }), 1.25);
    assert.equal(metricValue(summary, 'accuracy', { nowMs: 0 }), null);
    assert.equal(summary.predictions.classDrift, null);
    assert.equal(summary.predictions.meanConfidence, null);
    assert.equal(summary.predictions.valueDrift!.test, 'ks');
    assert.equal(metricValue(summary, 'prediction_drift', { nowMs: 0 }), summary.predictions.valueDrift!.statistic);
  });

  it('feeds the detectors 1 for a prediction further off than the training error quantile or overridden without a value', () => {
    const { summary } = cycle();
    assert.equal(summary.detectors.adwin.errors, 2);
    const tolerant = cycle({ profile: { features: {}, classCounts: {}, target: { sample: [9, 10, 12, 20] }, errorThreshold: 5 } });
    assert.equal(tolerant.summary.detectors.adwin.errors, 1, 'only the override without a value');
  });
});
