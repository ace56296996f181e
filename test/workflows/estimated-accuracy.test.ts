/**
 * The label-free accuracy estimate (CBPE) on the real stack: the first champion's calibration is
 * fitted on its holdout when its retrain evaluates it (`cbpe.json` on its MLflow run); unlabelled
 * traffic through the model server gets `estimated_accuracy` in the monitoring cycles (MLflow
 * metrics, the status query); labels arriving later show realised accuracy next to the estimate on
 * the same predictions; a policy rule on `estimated_accuracy`, set at run time, fires a retrain
 * with no label at all. A version whose run has no calibration reports none.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { cbpeCache } from '../../activities/cbpe.ts';
import type { ActivityContext } from '../../activities/context.ts';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { CBPE_ARTIFACT, cbpeArtifact, readCbpeArtifact } from '../../core/estimation/champion-estimate.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, postToModel, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

test('a champion calibrated at retrain estimates its accuracy without labels; a rule on the estimate fires a retrain', async () => {
  const spec = testSpec();
  await registerSeeded(stack, spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));

  // Calibrated when the retrain evaluated it: on its holdout, in its run, by its class order.
  const { runId } = await stack.mlflow.getModelVersion(spec.name, '1');
  const { artifactUri } = await stack.mlflow.getRun(runId);
  const calibration = readCbpeArtifact(Buffer.from(await stack.mlflow.downloadArtifact(artifactUri, CBPE_ARTIFACT)).toString('utf8'));
  assert.deepEqual([...calibration.classes].sort(), ['drizzle', 'fog', 'rain', 'snow', 'sun']);
  assert.equal(calibration.holdout.rows, 73, "the last 20% of the spec's 365-row training window");
  assert.equal(calibration.calibration.fits.length, 5, 'one isotonic fit per class');

  // Before any traffic: no estimate, and the summary says why.
  const idle = await eventually(
    'a cycle without traffic',
    async () => (await stack.client.status(spec.name)).lastSummary as MonitoringSummary,
  );
  assert.deepEqual(idle.estimated, {
    accuracy: null,
    n: 0,
    onLabelled: null,
    note: 'no predictions of the champion since the previous cycle',
  });

  // Unlabelled traffic: New York's weather, which the Seattle champion never saw.
  const newYork = weatherData()
    .traffic.filter((r) => r.location === 'New York')
    .slice(0, 400);
  const rowsOf = (from: number, to: number) =>
    newYork.slice(from, to).map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  const { predictions } = (await post(spec.name, 'predict', { rows: rowsOf(0, 200) })) as { predictions: Array<{ id: string }> };

  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  const [monitoring] = await eventually('the monitoring run of v1', async () => {
    const runs = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'monitoring' and tags.`perennial.champion` = '1'");
    return runs.length ? runs : undefined;
  });
  const points = (metric: string) => stack.mlflow.metricHistory(monitoring.runId, `monitoring/${metric}`);
  const [estimate] = await eventually('an estimate of the unlabelled traffic', async () => {
    const p = await points('estimated_accuracy');
    return p.length ? p : undefined;
  });
  assert.ok(estimate.value > 0 && estimate.value < 1, `estimated accuracy ${estimate.value}`);
  assert.equal((await points('estimated_rows')).find((p) => p.step === estimate.step)?.value, 200);
  assert.equal((await points('labelled')).find((p) => p.step === estimate.step)?.value, 0, 'estimated with no label');
  assert.deepEqual(await points('accuracy'), [], 'no realised accuracy without labels');

  // Labels arrive later: realised accuracy next to the estimate on the same predictions.
  await post(spec.name, 'feedback', {
    feedback: predictions.slice(0, 100).map((p, i) => ({ predictionId: p.id, label: newYork[i].weather })),
  });
  const [realised] = await eventually('realised accuracy on the labels', async () => {
    const p = await points('accuracy');
    return p.length ? p : undefined;
  });
  const onLabelled = (await points('estimated_accuracy_on_labelled')).find((p) => p.step === realised.step);
  assert.ok(onLabelled && onLabelled.value > 0 && onLabelled.value < 1, 'the estimate on the labelled predictions, same cycle');
  assert.equal((await points('labelled')).find((p) => p.step === realised.step)?.value, 100);

  // A rule on the estimate, set at run time, judges unlabelled traffic alone.
  await stack.client.setPolicies(spec.name, {
    policies: { rules: [{ name: 'estimate', when: { metric: 'estimated_accuracy', below: 0.95 } }] },
    changedBy: 'ana',
    reason: 'labels come a week late',
  });
  await post(spec.name, 'predict', { rows: rowsOf(200, 400) });
  const status = await eventually('a retrain fired by the estimate', async () => {
    const s = await stack.client.status(spec.name);
    return s.retrainCount >= 2 ? s : undefined;
  });
  const started = status.history.find((h) => h.what === 'retrain #2 started');
  assert.match(started?.reasons[0] ?? '', /^estimate: estimated_accuracy 0\.\d+ < 0\.95 \(CBPE\) on \d+ predictions$/);
  const handle = stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2));
  const retrain = await eventually('the retrain workflow', () => handle.describe().catch(() => undefined));
  const memo = retrain.memo?.trigger as { values: Record<string, Record<string, number>> };
  assert.ok(memo.values.estimate.estimated_accuracy < 0.95);
});

test('a version whose run has no calibration has no estimate; one uploaded later is found', async () => {
  const model = `t-${randomUUID().slice(0, 8)}`;
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(model));
  const { run } = await stack.mlflow.findOrCreateRun({ experimentId, key: `${model}/old`, runName: 'trained before CBPE' });
  await stack.mlflow.ensureRegisteredModel(model);
  const { version } = await stack.mlflow.findOrCreateModelVersion({ name: model, source: `${run.artifactUri}/model`, runId: run.runId });
  const calibrationOf = cbpeCache({ mlflow: stack.mlflow } as ActivityContext);
  assert.equal(await calibrationOf(model, version.version), undefined);

  const artifact = cbpeArtifact(['a', 'b'], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4], ['a', 'b', 'b']);
  await stack.mlflow.uploadArtifact(run.artifactUri, CBPE_ARTIFACT, JSON.stringify(artifact), 'application/json');
  assert.deepEqual(await calibrationOf(model, version.version), artifact);
});
