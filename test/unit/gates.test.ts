/** The evaluation gates' pure decisions (core/gates/), against hand-computed numbers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelSpec } from '../../core/spec.ts';
import { gatesOf } from '../../core/gates/result.ts';
import { checkThreshold, checkThresholds, signedChange } from '../../core/gates/thresholds.ts';
import { judgeOlderData } from '../../core/gates/older-data.ts';
import { judgeSlices, sliceKey } from '../../core/gates/slices.ts';
import { judgeSize } from '../../core/gates/size.ts';
import { judgeSpeed, latencyOf } from '../../core/gates/speed.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} vs ${expected}`);

describe('MetricThreshold', () => {
  it('signs the change so that better is positive, whichever direction the metric has', () => {
    // accuracy 0.70 vs 0.80: 0.10 worse, -12.5% of the champion's.
    const acc = signedChange({ metric: 'accuracy' }, 0.7, 0.8);
    close(acc.absolute, -0.1);
    close(acc.relative, -0.125);
    // rmse 3 vs 4: 1 better, +25%.
    const rmse = signedChange({ metric: 'rmse' }, 3, 4);
    close(rmse.absolute, 1);
    close(rmse.relative, 0.25);
    // greaterIsBetter overrides the metric's default.
    close(signedChange({ metric: 'rmse', greaterIsBetter: true }, 3, 4).absolute, -1);
  });

  it('checks bounds on the challenger and changes against the champion, each with its numbers', () => {
    const t = { metric: 'accuracy' as const, lowerBound: 0.6, minAbsoluteChange: -0.05 };
    assert.deepEqual(checkThreshold(t, 0.7, 0.8), {
      passed: false,
      lines: [
        'accuracy 0.7000 >= lowerBound 0.6000: ok',
        'accuracy challenger 0.7000 vs champion 0.8000: change -0.1000 >= minAbsoluteChange -0.0500: fails',
      ],
    });
    assert.equal(checkThreshold(t, 0.76, 0.8).passed, true);
    assert.equal(checkThreshold(t, 0.59, 0.55).passed, false, 'the bound holds whatever the champion does');
    // rmse 4.3 vs 4: 7.5% worse, more than the 5% allowed; 4.2 is 5% worse, just allowed.
    const r = { metric: 'rmse' as const, minRelativeChange: -0.05, upperBound: 10 };
    assert.equal(checkThreshold(r, 4.3, 4).passed, false);
    assert.equal(checkThreshold(r, 4.2, 4).passed, true);
  });

  it('judges only the bounds without a champion, and fails an unmeasured challenger', () => {
    const t = { metric: 'accuracy' as const, lowerBound: 0.5, minAbsoluteChange: 0 };
    assert.deepEqual(checkThreshold(t, 0.6, undefined), {
      passed: true,
      lines: ['accuracy 0.6000 >= lowerBound 0.5000: ok', 'accuracy change vs the champion: no champion value to compare with, not judged'],
    });
    assert.equal(checkThreshold(t, null, 0.5).passed, false);
  });

  it('defaults to losing at most 0.02 accuracy, or at most 5% RMSE', () => {
    assert.equal(checkThresholds([], false, { accuracy: 0.781 }, { accuracy: 0.8 }).passed, true);
    assert.equal(checkThresholds([], false, { accuracy: 0.779 }, { accuracy: 0.8 }).passed, false);
    assert.equal(checkThresholds([], true, { rmse: 2.09 }, { rmse: 2 }).passed, true);
    assert.equal(checkThresholds([], true, { rmse: 2.11 }, { rmse: 2 }).passed, false);
  });
});

describe('the gates', () => {
  const olderData = { reference: { kind: 'championTraining' as const }, maxRows: 5000, minRows: 30, thresholds: [] };

  it('older data: fails a challenger that forgot the old records, with the numbers', () => {
    const result = judgeOlderData(olderData, false, 'records up to id 731', {
      rows: 400,
      challenger: { accuracy: 0.25, log_loss: 2 },
      champion: { accuracy: 0.75, log_loss: 0.7 },
    });
    assert.equal(result.passed, false);
    assert.deepEqual(result.lines, [
      '400 reference records (records up to id 731): challenger accuracy 0.2500, log_loss 2; champion accuracy 0.7500, log_loss 0.7000',
      'accuracy challenger 0.2500 vs champion 0.7500: change -0.5000 >= minAbsoluteChange -0.0200: fails',
    ]);
    assert.deepEqual(result.metrics, {
      'gate.older_data.rows': 400,
      'gate.older_data.challenger.accuracy': 0.25,
      'gate.older_data.challenger.log_loss': 2,
      'gate.older_data.champion.accuracy': 0.75,
      'gate.older_data.champion.log_loss': 0.7,
    });
  });

  it('older data: skipped, and passing, below minRows', () => {
    const result = judgeOlderData(olderData, false, 'source golden', { rows: 29, challenger: { accuracy: 0 }, champion: { accuracy: 1 } });
    assert.deepEqual(
      [result.passed, result.skipped, result.lines],
      [true, true, ['only 29 reference records (source golden), fewer than minRows 30: not judged']],
    );
  });

  it('slices: judges slices with minRows rows, failed first; counts the small ones', () => {
    const settings = { columns: ['location'], minRows: 30, thresholds: [{ metric: 'accuracy' as const, minAbsoluteChange: -0.1 }] };
    const result = judgeSlices(settings, false, [
      { column: 'location', value: 'Seattle', rows: 100, challenger: { accuracy: 0.8 }, champion: { accuracy: 0.75 } },
      { column: 'location', value: 'New York', rows: 50, challenger: { accuracy: 0.5 }, champion: { accuracy: 0.7 } },
      { column: 'location', value: 'Oslo', rows: 10, challenger: { accuracy: 0 }, champion: { accuracy: 1 } },
    ]);
    assert.equal(result.passed, false);
    assert.deepEqual(result.lines, [
      '2 slice(s) judged, 1 failed',
      'location=New York (50 rows): fails: accuracy challenger 0.5000 vs champion 0.7000: change -0.2000 >= minAbsoluteChange -0.1000: fails',
      'location=Seattle (100 rows): ok: accuracy challenger 0.8000 vs champion 0.7500: change 0.0500 >= minAbsoluteChange -0.1000: ok',
      'location: 1 slice(s) with fewer than minRows 30 rows not judged (10 rows)',
    ]);
    assert.equal(result.metrics['gate.slices.location:New York.champion.accuracy'], 0.7);
    assert.equal(sliceKey('city', 'São Paulo/=x'), 'city:S_o Paulo__x');
  });

  it('size: limits and the ratio to the champion', () => {
    const result = judgeSize({ maxParams: 1000, maxRatioToChampion: 1.5 }, { params: 800, bytes: 4000 }, { params: 400, bytes: 2500 });
    assert.equal(result.passed, false);
    assert.deepEqual(result.lines, [
      'challenger 800 parameters, 4000 bytes; champion 400 parameters, 2500 bytes',
      'parameters 800 <= maxParams 1000: ok',
      "parameters / champion's 2 <= maxRatioToChampion 1.5000: fails",
    ]);
    assert.equal(result.metrics['gate.size.ratio_to_champion'], 2);
    assert.equal(judgeSize({ maxRatioToChampion: 1.5 }, { params: 800, bytes: 4000 }).passed, true, 'no champion: no ratio');
  });

  it('speed: p50 and p99 by linear interpolation, against limits and the champion', () => {
    // 1..100 ms: p50 = 50.5, p99 = 99.01.
    const challenger = Array.from({ length: 100 }, (_, i) => 100 - i);
    const { p50, p99 } = latencyOf(challenger);
    close(p50, 50.5);
    close(p99, 99.01);
    const champion = challenger.map((ms) => ms / 2);
    const result = judgeSpeed({ batchRows: 64, repeats: 100, maxSlowdown: 1.5, maxP99Ms: 100 }, challenger, champion);
    assert.equal(result.passed, false);
    assert.deepEqual(result.lines.slice(1), [
      'challenger p99 ms 99.0100 <= maxP99Ms 100: ok',
      'p50 slowdown vs the champion 2 <= maxSlowdown 1.5000: fails',
      'p99 slowdown vs the champion 2 <= maxSlowdown 1.5000: fails',
    ]);
    close(result.metrics['gate.speed.champion.p50_ms'], 25.25);
    assert.equal(judgeSpeed({ batchRows: 64, repeats: 100, maxSlowdown: 1.5 }, challenger).passed, true, 'no champion: no slowdown');
  });

  it('are on only when the spec names them', () => {
    const spec = (evaluation: object) =>
      ModelSpec.parse({ name: 'm', features: [{ name: 'x' }], label: { name: 'y', classes: ['a', 'b'] }, evaluation });
    assert.deepEqual(gatesOf(spec({})), []);
    assert.deepEqual(gatesOf(spec({ speed: {}, olderData: {} })), ['olderData', 'speed']);
  });
});
