/**
 * The MNIST demo, shortened, on every real piece: Temporal dev server, MLflow server, model server
 * over HTTP, worker, SQLite. Digits by the same writers, then new writers (slanted, thicker,
 * off-centre); the monitoring must see the change in the images themselves (the image drift
 * tests, not a test per pixel), retrain a cnn, and promote it. Fewer digits, one trial of two
 * epochs and a short canary keep it near a minute.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { readSpecFile } from '../../client/spec-file.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { ModelSpec } from '../../core/spec.ts';
import { mnistData } from '../../examples/mnist/digits.ts';
import { DEMOS } from '../../stack/demos.ts';
import { runDemoTraffic } from '../../stack/demo.ts';
import { seedRecords, startStack } from '../helpers/stack.ts';

test('the mnist demo notices new writers in the images, retrains a cnn and promotes it', { timeout: 10 * 60_000 }, async () => {
  const stack = await startStack();
  const demo = readSpecFile(join(PROJECT_ROOT, 'examples', 'mnist', 'mnist.yaml'));
  const spec = ModelSpec.parse({
    ...demo,
    name: `mnist-e2e-${Date.now().toString(36)}`,
    training: {
      ...demo.training,
      window: { kind: 'lastRows', rows: 600 },
      sweep: { ...demo.training.sweep, budget: { maxTrials: 1, maxWallTime: '5m', maxEpochsPerTrial: 2 }, parallelism: 1 },
    },
    monitoring: { ...demo.monitoring, interval: '2s', drift: { ...demo.monitoring.drift, minRows: 100 } },
    policies: { ...demo.policies, cooldown: '5s' },
    canary: { ...demo.canary, steps: [{ weight: 0.3, bake: '3s' }], checkEvery: '1s' },
  });
  const data = mnistData({ seed: 600, sameWriters: 200, newWriters: 1500 });
  await seedRecords(stack.store, spec, data.seed, DEMOS.mnist.source);
  await stack.client.register(spec);

  const result = await runDemoTraffic({
    client: stack.client,
    spec,
    servingUrl: stack.servingUrl,
    traffic: data.traffic,
    autoApprove: true,
    rate: 40,
    // About two minutes on a busy 2-core machine; without drift on the images nothing retrains.
    deadlineMs: 6 * 60_000,
    log: () => undefined,
    segment: DEMOS.mnist.segment,
  });
  console.log(`mnist demo (short): v${result.championVersion} after ${result.predictions} predictions, trigger ${result.trigger}`);
  for (const a of result.accuracy) console.log(`  ${a.segment} v${a.version}: ${a.accuracy.toFixed(3)} on ${a.n}`);
  assert.ok(Number(result.championVersion) >= 2);
  assert.match(result.trigger, /drift/);

  // The champion's monitoring run holds each drifted cycle's summary: the image views, not pixels.
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  const [monitoring] = await stack.mlflow.searchRuns(
    [experimentId],
    "tags.`perennial.kind` = 'monitoring' and tags.`perennial.champion` = '1'",
  );
  assert.ok(monitoring, 'a monitoring run of champion v1');
  const cycles = await stack.mlflow.listArtifacts(monitoring.artifactUri, 'monitoring');
  const summaries: MonitoringSummary[] = [];
  for (const cycle of cycles) {
    const bytes = await stack.mlflow.downloadArtifact(monitoring.artifactUri, `${cycle.path}/drift.json`);
    summaries.push((JSON.parse(new TextDecoder().decode(bytes)) as { summary: MonitoringSummary }).summary);
  }
  const drifted = summaries.filter((s) => s.drift.drifted.length > 0);
  assert.ok(drifted.length >= 2, `the drift rule needs 2 drifted windows, saw ${drifted.length}`);
  for (const s of drifted) {
    assert.deepEqual(
      s.drift.features.map((f) => [f.name, f.test]),
      [
        ['image.intensity', 'intensity'],
        ['image.blocks', 'blockmeans'],
      ],
      'the pixels are tested as images',
    );
    const blocks = s.drift.features[1];
    console.log(
      `  cycle ${s.cycle}: ${s.drift.rows} images, intensity ${s.drift.features[0].statistic.toFixed(3)}, block means T² ${blocks.statistic.toFixed(0)} p ${blocks.pValue}`,
    );
    assert.ok(blocks.drifted && blocks.pValue! < 0.001, `block means p ${blocks.pValue}`);
  }
  // The new writers were served worse by v1 than the same writers, and better by the retrained cnn.
  const live = (segment: string, version: string) => result.accuracy.find((a) => a.segment === segment && a.version === version);
  const before = live('same writers', '1');
  const after = live('new writers', '1');
  assert.ok(before && after && after.accuracy < before.accuracy, JSON.stringify(result.accuracy));

  const { history } = await stack.client.status(spec.name);
  assert.ok(
    history.some((h) => /^retrain #\d+: promoted$/.test(h.what) && /drift/.test(h.reasons[0] ?? '')),
    'a drift retrain was promoted',
  );
  const champion = await stack.mlflow.getVersionByAlias(spec.name, 'champion');
  assert.equal(champion?.version, result.championVersion);
});
