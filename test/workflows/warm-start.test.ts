/**
 * Warm start end to end. A sweep with `families: { warmStart, softmax }` skips warmStart on the
 * model's first retrain (no champion yet); on the next ones it trains a warm-start trial that
 * continues the champion's weights, next to softmax trials trained from scratch, on the same
 * rungs. A first retrain whose only family is warmStart fails with the reason.
 *
 * The warm-start trials fine-tune with plain SGD at a learning rate of 1e-7: their weights cannot
 * move measurably in 9 epochs, so a trial that did start from v1's weights ends with v1's weights,
 * and one that started from fresh weights could not. (test/ml/warm-start.test.ts shows what a
 * warm start at a useful learning rate gains over a fresh model.)
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';
import { finishedRetrain, sweepOf } from '../helpers/retrains.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

async function weightsOf(artifactUri: string): Promise<Float32Array> {
  const bytes = await stack.mlflow.downloadArtifact(artifactUri, 'model/weights.bin');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  assert.equal(a.length, b.length, 'same architecture');
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);
};

test("warmStart trials continue the champion's weights and compete with trials from scratch", { timeout: 20 * 60_000 }, async () => {
  const base = testSpec();
  const spec = testSpec({
    training: {
      ...base.training,
      // Each retrain learns from the records since its champion's: a small new window, where
      // continuing the champion pays (a fresh softmax gets one optimiser step per epoch).
      window: { kind: 'sinceChampion' },
      sweep: {
        ...base.training.sweep,
        families: {
          warmStart: { learningRate: { type: 'categorical', values: [1e-7] }, optimizer: { type: 'categorical', values: ['sgd'] } },
          softmax: { learningRate: { type: 'categorical', values: [0.05, 0.1] } },
        },
        // Every grid point once: softmax at both rates, and (once there is a champion) the warm start.
        sampler: 'grid',
        budget: { ...base.training.sweep.budget, maxTrials: 3 },
      },
    },
    validation: { ...base.validation, minClassCount: 1 },
    evaluation: { ...base.evaluation, minImprovement: -1 },
  });
  const seed = weatherData().seed;
  await seedRecords(stack.store, spec, seed.slice(0, 400), '2012 and early 2013');
  await stack.client.register(spec);

  const first = await finishedRetrain(stack, spec.name, 1);
  assert.equal(first.outcome, 'promoted');
  const best1 = first.decisions.find((d) => d.what.startsWith('best trial '))!;
  assert.match(best1.what, /: softmax /);
  assert.ok(
    best1.reasons.includes(`warmStart trials skipped: ${spec.name} has no champion yet to continue`),
    JSON.stringify(best1.reasons),
  );
  assert.ok((await sweepOf(stack, spec.name, 1)).trials.every((t) => t.params.family === 'softmax'));

  await seedRecords(stack.store, spec, seed.slice(400, 480), 'spring 2013');
  await stack.client.retrain(spec.name, { reason: 'new records', requestedBy: 'ana' });
  const second = await finishedRetrain(stack, spec.name, 2);
  const best2 = second.decisions.find((d) => d.what.startsWith('best trial '))!;
  console.log(`retrain #2: ${second.outcome}; ${best2.what} (${best2.reasons.join('; ')})`);

  const trials = (await sweepOf(stack, spec.name, 2)).trials;
  assert.equal(trials.length, 3);
  const warm = trials.filter((t) => t.tags['perennial.warm_start_from'] === 'v1');
  const scratch = trials.filter((t) => t.params.family === 'softmax');
  assert.equal(warm.length, 1, 'one warm-start trial, tagged with the champion it continues');
  assert.equal(scratch.length, 2);
  assert.equal(warm[0].params.family, 'warmStart');
  assert.equal(warm[0].params.learningRate, '1e-7');
  assert.deepEqual(JSON.parse(warm[0].tags['perennial.model_config']), {
    family: 'softmax',
    params: { learningRate: 1e-7, optimizer: 'sgd' },
  });
  // Equal terms: every trial trained the first rung and was scored on the same objective.
  for (const t of trials) assert.ok(JSON.parse(t.tags['perennial.rung_0']).objective >= 0, `${t.runName} trained the first rung`);

  // It started from v1's weights (and barely moved at 1e-7); the trials from scratch did not.
  const versionRun = async (v: string) => stack.mlflow.getRun((await stack.mlflow.getModelVersion(spec.name, v)).runId);
  const v1 = await weightsOf((await versionRun('1')).artifactUri);
  assert.ok(maxAbsDiff(await weightsOf(warm[0].artifactUri), v1) < 1e-4, 'the warm start ends where v1 was');
  for (const t of scratch) assert.ok(maxAbsDiff(await weightsOf(t.artifactUri), v1) > 1e-2, `${t.runName} trained from scratch`);

  // On 80 new records (51 to train on) the champion continued beats three steps from scratch: the warm start is
  // the challenger, registered and promoted like any trial.
  assert.match(best2.what, /^best trial \d: warmStart from v1 learningRate=1e-7 optimizer=sgd$/);
  assert.equal(second.outcome, 'promoted');
  assert.equal((await versionRun('2')).runId, warm[0].runId);

  // The next retrain continues v2, itself a warm start: its configuration is read from its run.
  await seedRecords(stack.store, spec, seed.slice(480, 560), 'summer 2013');
  await stack.client.retrain(spec.name, { reason: 'more records', requestedBy: 'ana' });
  const third = await finishedRetrain(stack, spec.name, 3);
  assert.match(third.outcome, /^(promoted|not-better)/, JSON.stringify(third.decisions.at(-1)));
  const [fromV2] = (await sweepOf(stack, spec.name, 3)).trials.filter((t) => t.tags['perennial.warm_start_from'] === 'v2');
  assert.ok(fromV2, 'a warm start from v2');
  assert.ok(maxAbsDiff(await weightsOf(fromV2.artifactUri), v1) < 1e-4);
});

test('a first retrain whose only family is warmStart fails, saying why', { timeout: 10 * 60_000 }, async () => {
  const base = testSpec();
  const spec = testSpec({
    training: {
      ...base.training,
      sweep: { ...base.training.sweep, families: { warmStart: { learningRate: { type: 'float', low: 1e-4, high: 1e-2 } } } },
    },
  });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  const failed = await eventually('retrain #1 to fail', async () =>
    (await stack.client.status(spec.name)).history.find((h) => h.what === 'retrain #1: failed'),
  );
  assert.ok(
    failed.reasons.includes(
      `root cause: ${spec.name} has no champion yet, and the sweep's only family is warmStart (which continues the champion): add a model family to training.sweep.families for the first retrain`,
    ),
    JSON.stringify(failed.reasons),
  );
});
