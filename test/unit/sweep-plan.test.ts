import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SweepSpec } from '../../core/sweep-spec.ts';
import { bestTrial, orient, promotions, rungObjective, type RungResult, rungs, waveSize } from '../../core/sweep-plan.ts';

const sweepOf = (over: Record<string, unknown> = {}) => SweepSpec.parse({ families: { softmax: {} }, ...over });
const asha = (minEpochs: number, reductionFactor: number, maxEpochsPerTrial: number, over: Record<string, unknown> = {}) =>
  sweepOf({ earlyStopping: { kind: 'asha', minEpochs, reductionFactor }, budget: { maxEpochsPerTrial, maxTrials: 100 }, ...over });
const result = (trial: number, value: number, paramCount = 100, latencyMs = 1): RungResult => ({ trial, value, paramCount, latencyMs });

describe('rungs', () => {
  it('grows by eta from minEpochs and ends at the cap', () => {
    assert.deepEqual(rungs(asha(3, 3, 27)), [3, 9, 27]);
    assert.deepEqual(rungs(asha(2, 3, 27)), [2, 6, 18, 27]);
    assert.deepEqual(rungs(asha(1, 2, 10)), [1, 2, 4, 8, 10]);
    assert.deepEqual(rungs(asha(27, 3, 27)), [27]);
    assert.deepEqual(rungs(asha(40, 3, 27)), [27]);
  });

  it('one rung at the cap without early stopping', () => {
    assert.deepEqual(rungs(sweepOf({ earlyStopping: { kind: 'none' }, budget: { maxEpochsPerTrial: 12 } })), [12]);
    assert.deepEqual(rungs(sweepOf()), [3, 9, 27]); // the defaults
  });
});

describe('waveSize', () => {
  it('eta^(rungs - 1), at least parallelism, at most maxTrials', () => {
    assert.equal(waveSize(asha(3, 3, 27)), 9);
    assert.equal(waveSize(asha(2, 3, 27)), 27);
    assert.equal(waveSize(asha(3, 3, 27, { parallelism: 12 })), 12);
    assert.equal(waveSize(asha(3, 3, 27, { budget: { maxEpochsPerTrial: 27, maxTrials: 5 } })), 5);
    assert.equal(waveSize(asha(27, 3, 27, { parallelism: 3 })), 3);
    assert.equal(waveSize(sweepOf({ earlyStopping: { kind: 'none' }, parallelism: 4 })), 4);
  });
});

describe('promotions', () => {
  it('promotes the top floor(n / eta), best first, whatever the input order', () => {
    const results = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4].map((v, trial) => result(trial, v));
    assert.deepEqual(promotions(results, 3), [1, 5, 3]);
    assert.deepEqual(promotions([...results].reverse(), 3), [1, 5, 3]);
    assert.deepEqual(promotions(results.slice(0, 8), 3), [1, 5]); // floor(8 / 3)
    assert.deepEqual(promotions(results.slice(0, 2), 3), [1]); // at least one
    assert.deepEqual(promotions([], 3), []);
  });

  it('breaks ties by fewer parameters, then lower trial id; latency never decides', () => {
    // Each later key only decides among equals of the earlier ones.
    const tied = [result(0, 0.9, 200, 1), result(1, 0.9, 100, 9), result(2, 0.9, 100, 5), result(3, 0.9, 100, 5), result(4, 0.95, 999, 99)];
    assert.deepEqual(promotions(tied, 1), [4, 1, 2, 3, 0]);
    assert.deepEqual(promotions([...tied].reverse(), 1), [4, 1, 2, 3, 0]);
    // The same results measured on a loaded machine (other latencies) give the same order.
    const loaded = tied.map((r) => ({ ...r, latencyMs: 1000 - r.latencyMs * r.trial }));
    assert.deepEqual(promotions(loaded, 1), [4, 1, 2, 3, 0]);
  });

  it('sweeps recorded before the deterministic tie-break keep ordering by latency', () => {
    const tied = [result(0, 0.9, 200, 1), result(1, 0.9, 100, 9), result(2, 0.9, 100, 5), result(3, 0.9, 100, 5), result(4, 0.95, 999, 99)];
    assert.deepEqual(promotions(tied, 1, 'latency'), [4, 2, 3, 1, 0]);
    assert.deepEqual(bestTrial([tied.slice(0, 4)], 'latency')?.trial, 2);
  });

  it('ranks NaN (a diverged trial) last and works on oriented minimised metrics', () => {
    const losses = [0.7, Number.NaN, 0.2, 0.5].map((loss, trial) => result(trial, orient(loss, 'minimize')));
    assert.deepEqual(promotions(losses, 1), [2, 3, 0, 1]);
  });
});

describe('bestTrial', () => {
  it('the best of the highest rung reached, even if a pruned trial scored higher lower down', () => {
    const byRung = [[result(0, 0.5), result(1, 0.95), result(2, 0.7)], [result(0, 0.8), result(2, 0.75)], []];
    assert.equal(bestTrial(byRung)?.trial, 0);
    assert.equal(bestTrial([[result(0, 0.5), result(1, 0.95)], [], []])?.trial, 1);
  });

  it('same tie-break as promotions; nothing finished gives undefined', () => {
    assert.equal(bestTrial([[result(5, 0.9, 100, 2), result(6, 0.9, 50, 9)]])?.trial, 6);
    // Equal size: the earlier trial, however fast the later one measured.
    assert.equal(bestTrial([[result(6, 0.9, 50, 2), result(5, 0.9, 50, 9)]])?.trial, 5);
    assert.equal(bestTrial([[], []]), undefined);
    assert.equal(bestTrial([]), undefined);
  });
});

describe('orient', () => {
  it('keeps maximised metrics and negates minimised ones', () => {
    assert.equal(orient(0.93, 'maximize'), 0.93);
    assert.equal(orient(0.31, 'minimize'), -0.31);
  });
});

describe('rungObjective', () => {
  it('averages the second half of the rung, at most its last 3 epochs', () => {
    assert.equal(rungObjective([0.5]), 0.5);
    assert.equal(rungObjective([0.5, 0.75]), 0.75); // 2 epochs: the last only
    assert.equal(rungObjective([0.25, 0.5, 0.75]), 0.75); // 3 epochs: floor(3/2) = 1
    assert.equal(rungObjective([0.25, 0.5, 0.5, 1]), 0.75); // 4 epochs: the last 2
    assert.equal(rungObjective([0, 0, 0, 0.5, 0.75, 1]), 0.75); // 6 epochs: the last 3
    assert.equal(rungObjective([0, 0, 0, 0, 0, 0, 0.5, 0.75, 1]), 0.75); // capped at 3
    assert.throws(() => rungObjective([]), RangeError);
  });
});
