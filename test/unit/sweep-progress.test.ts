/**
 * What a sweep reports while it runs (core/sweep-loop.ts SweepProgress, the sweep workflow's
 * status query): trials done of the budget, trial rungs and epochs of those planned
 * (core/sweep-plan.ts plannedWork), the best objective so far, and the time rungs took.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelSpec } from '../../core/spec.ts';
import { SweepSpec } from '../../core/sweep-spec.ts';
import { plannedWork } from '../../core/sweep-plan.ts';
import { progressAtStart, runSweep, type SweepProgress } from '../../core/sweep-loop.ts';

const sweepOf = (budget: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  SweepSpec.parse({ families: { softmax: {} }, budget, ...over });

describe('plannedWork', () => {
  it('counts the trial rungs and epochs of every wave, each rung promoting floor(n / eta), at least one', () => {
    // Rungs [3, 9], eta 3, waves of 3: 3 first rungs of 3 epochs, then 1 of 6.
    assert.deepEqual(plannedWork(sweepOf({ maxTrials: 3, maxEpochsPerTrial: 9 })), { rungs: 4, epochs: 15 });
    // The defaults: rungs [3, 9, 27], waves of 9 then 3: 9 + 3 + 1 and 3 + 1 + 1 rungs.
    assert.deepEqual(plannedWork(sweepOf({ maxTrials: 12 })), { rungs: 18, epochs: 9 * 3 + 3 * 6 + 18 + (3 * 3 + 6 + 18) });
    // No early stopping: every trial trains to the cap in one rung.
    assert.deepEqual(plannedWork(sweepOf({ maxTrials: 5, maxEpochsPerTrial: 12 }, { earlyStopping: { kind: 'none' } })), {
      rungs: 5,
      epochs: 60,
    });
  });
});

describe('runSweep progress', () => {
  it('rises to the budget and the plan, with the best objective as measured and the time rungs took', async () => {
    const spec = ModelSpec.parse({
      name: 'p',
      features: [{ name: 'x' }],
      label: { name: 'y', classes: ['a', 'b'] },
      training: {
        sweep: {
          families: { softmax: { learningRate: { type: 'float', low: 0.01, high: 0.1 } } },
          budget: { maxTrials: 3, maxEpochsPerTrial: 9 },
          earlyStopping: { kind: 'asha', minEpochs: 3, reductionFactor: 3 },
          // One lane: the stand-in clock below advances per rung, so overlapping rungs would overlap there too.
          parallelism: 1,
        },
      },
    });
    let clock = 0;
    const reports: SweepProgress[] = [];
    const result = await runSweep(
      spec,
      {
        startSweepRun: async () => ({ experimentId: '1', runId: 'sweep', artifactUri: '' }),
        // Each epoch takes 1000 ms on the sweep's clock; trial 1 is the best model.
        trainTrialRung: async ({ trial, fromEpoch, toEpoch }) => {
          clock += (toEpoch - fromEpoch) * 1000;
          const objective = trial === 1 ? 0.9 : 0.5 + trial / 100;
          return { runId: `t${trial}`, objective, valAccuracy: objective, valLogLoss: 1, paramCount: 10, latencyMs: 1, backend: 'wasm' };
        },
        closeTrial: async () => {},
        finishSweepRun: async () => {},
        now: () => clock,
      },
      (p) => reports.push(p),
    );
    const start = progressAtStart(spec.training.sweep);
    assert.deepEqual(
      { trialsDone: start.trialsDone, maxTrials: start.maxTrials, rungsPlanned: start.rungsPlanned, epochsPlanned: start.epochsPlanned },
      { trialsDone: 0, maxTrials: 3, rungsPlanned: 4, epochsPlanned: 15 },
    );
    const last = reports.at(-1)!;
    assert.deepEqual(
      reports.map((r) => r.trialsDone),
      [0, 0, 0, 1, 2, 2, 3],
      'three first rungs, two trials pruned, the top rung, the last trial completed',
    );
    assert.deepEqual(
      reports.map((r) => r.best),
      [0, 1, 1, 1, 1, 1, 1],
      'the best so far includes the rung still training',
    );
    assert.equal(last.rungsDone, last.rungsPlanned);
    assert.equal(last.epochsDone, last.epochsPlanned);
    assert.equal(last.rungMs, 15_000, 'every rung timed on the sweep clock');
    assert.equal(last.best, result.best.trial);
    assert.equal(last.bestObjective, result.best.objective.at(-1));
    assert.equal(last.bestObjective, 0.9);
    assert.equal(last.wallTimeEndsAt, new Date(30 * 60_000).toISOString());
    assert.equal(last.metric, 'val_accuracy');
  });
});
