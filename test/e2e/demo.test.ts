/**
 * The demo, end to end, on every real piece: Temporal dev server, MLflow server, model server
 * over HTTP, worker, SQLite. Seattle traffic, then New York; the lifecycle must notice the
 * drift, retrain, pass the approval gate and the canary, and promote.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { experimentName } from '../../activities/mlflow/model-files.ts';
import { readSpecFile } from '../../client/spec-file.ts';
import { ModelSpec } from '../../core/spec.ts';
import { runDemoTraffic, weatherData } from '../../stack/demo.ts';
import { PROJECT_ROOT } from '../../stack/paths.ts';
import { seedRecords, startStack } from '../helpers/stack.ts';

test('the weather demo retrains on drift and promotes the challenger', { timeout: 20 * 60_000 }, async () => {
  const stack = await startStack();
  const demo = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  const spec = ModelSpec.parse({ ...demo, name: 'weather-e2e' });
  seedRecords(stack.store, spec);
  await stack.client.register(spec);

  const result = await runDemoTraffic({
    client: stack.client,
    spec,
    servingUrl: stack.servingUrl,
    traffic: weatherData().traffic,
    autoApprove: true,
    rate: 40,
    log: () => undefined,
  });
  assert.ok(Number(result.championVersion) >= 2);
  assert.match(result.trigger, /drift/);

  // MLflow: one experiment, retrain parent runs with nested candidate runs, aliases.
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  const retrains = await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.kind\` = 'retrain'`);
  assert.ok(retrains.length >= 2, `expected the initial and a drift retrain, got ${retrains.length}`);
  const driftRun = retrains.find((r) => r.tags['perennial.trigger_rules']?.includes('drift') && r.tags['perennial.outcome'] === 'promoted');
  assert.ok(driftRun, 'a promoted retrain run triggered by drift');
  const candidates = await stack.mlflow.childRuns(experimentId, driftRun.runId);
  assert.equal(candidates.length, spec.training.candidates.length);
  for (const c of candidates) {
    assert.equal(c.status, 'FINISHED');
    assert.equal(c.tags['perennial.backend'], 'wasm');
    assert.equal((await stack.mlflow.metricHistory(c.runId, 'val_accuracy')).length, spec.training.candidates[0].epochs);
  }
  const champion = await stack.mlflow.getVersionByAlias(spec.name, 'champion');
  assert.equal(champion?.version, result.championVersion);
  assert.ok(candidates.some((c) => c.runId === champion!.runId), 'the champion is one of the drift retrain\'s candidates');
  assert.equal(driftRun.tags['perennial.challenger_version'], result.championVersion);

  // The model server answers with the new champion alone.
  const deployment = (await (await request(`${stack.servingUrl}/v1/models/${spec.name}/deployment`)).body.json()) as {
    champion: { version: string };
    canary?: unknown;
  };
  assert.equal(deployment.champion.version, result.championVersion);
  assert.equal(deployment.canary, undefined);
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: [{ precipitation: 12, temp_max: 2, temp_min: -3, wind: 6 }] }),
  });
  const { predictions } = (await res.body.json()) as { predictions: Array<{ version: string; label: string }> };
  assert.equal(predictions[0].version, result.championVersion);
  assert.ok(spec.label.classes.includes(predictions[0].label));
});
