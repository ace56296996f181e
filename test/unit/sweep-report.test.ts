import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sweepReport } from '../../activities/sweep-report.ts';
import type { TrialSummary } from '../../core/sweep-loop.ts';
import { ModelSpec } from '../../core/spec.ts';

const spec = (direction: 'maximize' | 'minimize') =>
  ModelSpec.parse({
    name: 'report',
    features: [{ name: 'x' }],
    label: { name: 'y', classes: ['a', 'b'] },
    training: {
      sweep: { families: { softmax: {} }, objective: { metric: direction === 'maximize' ? 'val_accuracy' : 'val_log_loss', direction } },
    },
  });
const trial = (i: number, objective: number[]): TrialSummary => ({
  trial: i,
  config: { family: 'softmax', params: {} },
  runId: `run-${i}`,
  objective,
  state: objective.length === 3 ? 'completed' : 'pruned',
  paramCount: 10,
  latencyMs: 1,
});

describe('sweepReport', () => {
  it('best so far follows the trial the sweep would pick: the highest rung first, then the score', () => {
    // Trial 2 scores 0.9 at the first rung but was pruned; trial 1 reached the top rung at 0.8.
    const trials = [trial(0, [0.6]), trial(1, [0.7, 0.75, 0.8]), trial(2, [0.9]), trial(3, [0.7, 0.78, 0.85]), trial(4, [0.5, 0.6, 0.7])];
    const { summary, svg } = sweepReport(spec('maximize'), trials, 3);
    assert.deepEqual(summary.bestSoFar, [0.6, 0.8, 0.8, 0.85, 0.85]);
    assert.equal(summary.best.trial, 3);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<title>trial 2: 0\.9000 \(pruned\)<\/title>/);
    assert.match(svg, />best so far</);
  });

  it('minimizes a loss, and a diverged (NaN) trial never leads', () => {
    const trials = [trial(0, [NaN]), trial(1, [0.9]), trial(2, [0.5]), trial(3, [0.7])];
    const { summary } = sweepReport(spec('minimize'), trials, 2);
    assert.deepEqual(summary.bestSoFar, [NaN, 0.9, 0.5, 0.5]);
  });
});
