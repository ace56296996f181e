/**
 * Sweeps that learn from earlier sweeps, end to end (Temporal + MLflow): with
 * `training.sweep.history`, a model's second sweep reads the first sweep's trials from MLflow,
 * records which it used (tags and sweep/history.json on its sweep run), and its first trial
 * retrains the champion's configuration from scratch.
 *
 * PERENNIAL_CAPTURE=v13 also writes the second sweep's history as a replay fixture
 * (test/replay/histories): it carries the `sweep-history` patch marker and the readSweepHistory call.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { retrainWorkflowId } from '../../core/messages.ts';
import { seedRecords, startStack, testSpec } from '../helpers/stack.ts';
import { finishedRetrain, sweepOf } from '../helpers/retrains.ts';
import { weatherData } from '../../stack/demo.ts';
import { captureFixture } from '../replay/capture-fixture.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

test(
  "a second sweep learns from the first one's trials and starts from the champion's configuration",
  { timeout: 10 * 60_000 },
  async () => {
    const base = testSpec();
    const spec = testSpec({
      training: {
        ...base.training,
        sweep: {
          ...base.training.sweep,
          sampler: 'tpe',
          // One observation's worth of priors ends the start-up: the second sweep samples by TPE from the first's trials.
          tpe: { startupTrials: 1 },
          budget: { ...base.training.sweep.budget, maxTrials: 3 },
          history: { startFromChampion: true, tag: 'weather-like' },
        },
      },
      evaluation: { ...base.evaluation, minImprovement: -1 },
    });
    const seed = weatherData().seed;
    await seedRecords(stack.store, spec, seed.slice(0, 400));
    await stack.client.register(spec);
    const first = await finishedRetrain(stack, spec.name, 1);
    assert.equal(first.outcome, 'promoted', JSON.stringify(first.decisions.at(-1)));
    const one = await sweepOf(stack, spec.name, 1);
    assert.equal(one.sweep.tags['perennial.history_trials'], '0');
    assert.equal(one.trials.length, 3);

    await seedRecords(stack.store, spec, seed.slice(400, 480), 'spring 2013');
    await stack.client.retrain(spec.name, { reason: 'new records', requestedBy: 'ana' });
    const second = await finishedRetrain(stack, spec.name, 2);
    const best2 = second.decisions.find((d) => d.what.startsWith('best trial '))!;
    assert.ok(best2.reasons.includes('learned from 3 trials of 1 earlier sweep'), JSON.stringify(best2.reasons));
    assert.ok(
      best2.reasons.includes('first trial: the configuration of the champion v1, trained from scratch'),
      JSON.stringify(best2.reasons),
    );

    // Recorded on the sweep run: how many, and every prior run id with its weight.
    const two = await sweepOf(stack, spec.name, 2);
    assert.equal(two.sweep.tags['perennial.history_trials'], '3');
    assert.equal(two.sweep.tags['perennial.history_sweeps'], '1');
    assert.equal(two.sweep.tags['perennial.history_champion'], 'v1');
    assert.equal(two.sweep.tags['perennial.history_tag'], 'weather-like');
    const record = JSON.parse(
      new TextDecoder().decode(await stack.mlflow.downloadArtifact(two.sweep.artifactUri, 'sweep/history.json')),
    ) as {
      sweeps: { sweepRunId: string; trials: { runId: string; rank: number; good: boolean; weight: number }[] }[];
    };
    assert.deepEqual(
      record.sweeps.map((s) => s.sweepRunId),
      [one.sweep.runId],
    );
    assert.deepEqual(
      record.sweeps[0].trials.map((t) => t.runId),
      one.trials.map((t) => t.runId),
    );
    assert.deepEqual(
      record.sweeps[0].trials.map((t) => t.weight > 0.49 && t.weight <= 0.5),
      [true, true, true],
    );
    assert.deepEqual(record.sweeps[0].trials.map((t) => t.good).filter(Boolean).length, 1, 'the best of three is the top gamma = 0.25');

    // Trial 0 trained v1's configuration from scratch: the same model configuration, not a warm start.
    const v1 = await stack.mlflow.getRun((await stack.mlflow.getModelVersion(spec.name, '1')).runId);
    assert.equal(two.trials[0].tags['perennial.model_config'], v1.tags['perennial.model_config']);
    assert.equal(two.trials[0].params.learningRate, v1.params.learningRate);
    assert.equal(two.trials[0].tags['perennial.warm_start_from'], undefined);
    await captureFixture(stack.client.temporal, `${retrainWorkflowId(spec.name, 2)}/sweep`);

    // Another model whose spec shares the tag learns from this one's sweeps on its first retrain.
    const other = testSpec({
      training: {
        ...spec.training,
        sweep: { ...spec.training.sweep, history: { from: 'tag', tag: 'weather-like', maxTrials: 4, startFromChampion: true } },
      },
      evaluation: spec.evaluation,
    });
    await seedRecords(stack.store, other, seed.slice(0, 400));
    await stack.client.register(other);
    const otherFirst = await finishedRetrain(stack, other.name, 1);
    const otherBest = otherFirst.decisions.find((d) => d.what.startsWith('best trial '))!;
    assert.ok(otherBest.reasons.includes('learned from 4 trials of 2 earlier sweeps'), JSON.stringify(otherBest.reasons));
    assert.ok(otherBest.reasons.includes(`startFromChampion: ${other.name} has no champion yet`), JSON.stringify(otherBest.reasons));
    const otherSweep = (await sweepOf(stack, other.name, 1)).sweep;
    const otherRecord = JSON.parse(
      new TextDecoder().decode(await stack.mlflow.downloadArtifact(otherSweep.artifactUri, 'sweep/history.json')),
    ) as { sweeps: { sweepRunId: string; model: string; trials: unknown[] }[] };
    // The most recent sweep first, whole; then as many of the one before as the cap leaves.
    assert.deepEqual(
      otherRecord.sweeps.map((s) => [s.sweepRunId, s.model, s.trials.length]),
      [
        [two.sweep.runId, spec.name, 3],
        [one.sweep.runId, spec.name, 1],
      ],
    );
  },
);
