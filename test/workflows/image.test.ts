/**
 * An image model through the whole loop: the 8x8 digits as records of a spec with an `image`
 * shape, a retrain whose sweep searches the cnn family (trained on the cpu backend in the
 * training threads, rung by rung from MLflow checkpoints), the best trial promoted and served
 * by the model server over HTTP.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { request } from 'undici';
import { toRecords } from '../../client/dataset.ts';
import { ModelSpec } from '../../core/spec.ts';
import { eventually, startStack } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const PIXELS = Array.from({ length: 64 }, (_, i) => `p${i}`);

function digits(): Array<Record<string, number | string>> {
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/digits.json', import.meta.url), 'utf8')) as {
    images: string[];
    labels: number[];
  };
  return fixture.images.map((s, i) => ({
    ...Object.fromEntries([...s].map((c, p) => [PIXELS[p], parseInt(c, 17)])),
    digit: String(fixture.labels[i]),
  }));
}

test('a cnn sweep on an image spec trains on cpu, is promoted and serves over HTTP', async () => {
  const spec = ModelSpec.parse({
    name: `digits-${Date.now().toString(36)}`,
    features: PIXELS.map((name) => ({ name })),
    image: { height: 8, width: 8, channels: 1 },
    label: { name: 'digit', classes: [...'0123456789'] },
    training: {
      sweep: {
        families: { cnn: { filters: { type: 'categorical', values: [4, 8] }, dense: { type: 'categorical', values: [16, 32] } } },
        sampler: 'grid',
        seed: 5,
        budget: { maxTrials: 2, maxEpochsPerTrial: 4 },
        earlyStopping: { kind: 'asha', minEpochs: 2, reductionFactor: 2 },
        parallelism: 2,
      },
    },
    approval: { required: false },
    canary: { steps: [{ weight: 0.5, bake: '1s' }], minSamples: 1000 },
  });
  const rows = digits();
  const served = rows.slice(0, 100);
  await stack.store.addRecords(spec.name, toRecords(rows.slice(100), PIXELS, 'digit', 'digits fixture'));
  await stack.client.register(spec);

  const status = await eventually(
    'champion v1 of the digits model',
    async () => {
      const s = await stack.client.status(spec.name);
      return s.championVersion === '1' ? s : undefined;
    },
    300_000,
  );
  assert.match(status.history.map((h) => h.what).join('\n'), /retrain #1: promoted/);

  // Every trial is a cnn that trained on cpu; the champion is the sweep's best trial.
  const version = await stack.mlflow.getModelVersion(spec.name, '1');
  const best = await stack.mlflow.getRun(version.runId);
  const trials = await stack.mlflow.searchRuns([best.experimentId], "tags.`perennial.kind` = 'trial'");
  assert.equal(trials.length, 2);
  for (const trial of trials) {
    assert.equal(trial.params.family, 'cnn');
    assert.equal(trial.tags['perennial.backend'], 'cpu');
  }
  assert.ok(trials.some((t) => t.runId === best.runId));
  assert.equal(best.tags['perennial.rung_reached'], '1', 'the champion trained through the top rung');

  // The model server takes raw pixels (its saved preprocessing scales them) and classifies.
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: served.map((r) => Object.fromEntries(PIXELS.map((p) => [p, r[p]]))) }),
  });
  assert.equal(res.statusCode, 200);
  const { predictions } = (await res.body.json()) as { predictions: Array<{ label: string; version: string }> };
  const correct = predictions.filter((p, i) => p.label === served[i].digit).length;
  console.log(`digits cnn champion: ${correct}/100 unseen images right`);
  assert.ok(predictions.every((p) => p.version === '1'));
  // Chance is 10%; 4 epochs of a small cnn get well above 80%.
  assert.ok(correct >= 80, `${correct}/100 right`);
});
