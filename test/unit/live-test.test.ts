/**
 * The live test of canaries and A/B tests (core/live-test.ts): which sequential test and options
 * a spec's settings make, and how a look is described and recorded. The statistics themselves
 * are checked against SciPy in sequential.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeLook, INITIAL_STATE, liveTestOptions, lookAtLive, lookMetrics } from '../../core/live-test.ts';
import { momentsOf, squaredErrorMargin } from '../../core/sequential/difference-of-means.ts';
import { accuracySequentialTest } from '../../core/sequential/two-proportions.ts';

const classifier = { alpha: 0.05, tolerance: 0.05, minSamples: 5 };

describe('live test settings', () => {
  it('a classifier: margin = tolerance, τ = effectScale (0.05 by default)', () => {
    assert.deepEqual(liveTestOptions(classifier), { alpha: 0.05, margin: 0.05, mixingVariance: 0.05 ** 2, minSamples: 5 });
    assert.equal(liveTestOptions({ ...classifier, effectScale: 0.1 }).mixingVariance, 0.1 ** 2);
  });
  it("a regression model: margin and τ scale with the champion's holdout MSE, fixed before the test", () => {
    const options = liveTestOptions({ ...classifier, championHoldoutMse: 4 });
    // RMSE at most 1.05 x 2 = 2.1: MSE at most 4.41, a margin of 0.41 on the mean squared error.
    assert.ok(Math.abs(options.margin - 0.41) < 1e-12 && options.margin === squaredErrorMargin(0.05, 4));
    assert.ok(Math.abs(options.mixingVariance - 2 ** 2) < 1e-12, 'τ = 0.5 x MSE');
  });
});

describe('a look at live outcomes', () => {
  it('a classifier is judged on its right answers, exactly as the two-proportion test', () => {
    const live = { champion: { n: 40, correct: 38 }, challenger: { n: 40, correct: 12 } };
    const result = lookAtLive(INITIAL_STATE, live, classifier);
    assert.deepEqual(result, accuracySequentialTest(INITIAL_STATE, live.champion, live.challenger, liveTestOptions(classifier)));
    assert.equal(result.decision, 'worse');
    assert.equal(result.effect, 12 / 40 - 38 / 40);
  });
  it('a regression model is judged on the moments of its squared errors (lower is better)', () => {
    const settings = { ...classifier, championHoldoutMse: 1 };
    const champion = momentsOf(Array.from({ length: 30 }, (_, i) => (i % 3) * 0.5));
    const worse = momentsOf(Array.from({ length: 30 }, (_, i) => 4 + (i % 3)));
    const result = lookAtLive(
      INITIAL_STATE,
      { champion: { n: 30, squaredErrors: champion }, challenger: { n: 30, squaredErrors: worse } },
      settings,
    );
    assert.equal(result.decision, 'worse');
    assert.ok(result.lower! > 0, 'the whole interval says the challenger errs more');
    const same = lookAtLive(
      INITIAL_STATE,
      { champion: { n: 30, squaredErrors: champion }, challenger: { n: 30, squaredErrors: champion } },
      settings,
    );
    assert.equal(same.effect, 0);
  });
  it('looks before minSamples change nothing, and say so in the line', () => {
    const result = lookAtLive(INITIAL_STATE, { champion: { n: 3, correct: 3 }, challenger: { n: 2, correct: 0 } }, classifier);
    assert.deepEqual([result.decision, result.state], ['continue', INITIAL_STATE]);
    assert.equal(
      describeLook(result, classifier),
      'accuracy challenger minus champion -1.000, 95% always-valid interval [-inf, inf], p 1.000, e-value 1.000, 2 labelled challenger vs 3 champion',
    );
  });
  it('records finite numbers only: no NaN effect before outcomes, no unbounded side', () => {
    const empty = lookAtLive(INITIAL_STATE, { champion: { n: 0 }, challenger: { n: 0 } }, classifier);
    assert.deepEqual(lookMetrics('ab', empty), { 'ab.p_value': 1, 'ab.e_value': 1, 'ab.samples_challenger': 0, 'ab.samples_champion': 0 });
    const decided = lookAtLive(INITIAL_STATE, { champion: { n: 40, correct: 38 }, challenger: { n: 40, correct: 12 } }, classifier);
    const metrics = lookMetrics('canary', decided);
    assert.deepEqual(
      [metrics['canary.ci_lower'], metrics['canary.ci_upper'], metrics['canary.effect']],
      [decided.lower, decided.upper, decided.effect],
    );
  });
});
