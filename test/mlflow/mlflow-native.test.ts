/**
 * MLflow 3, natively: a champion trained by the real stack is read with MLflow's own Python
 * client (`mlflow` in .venv): model info by alias, signature, input example, the logged model and
 * the dataset inputs of its run and its retrain; and `perennial retrain --if-code-changed`
 * against the code hash recorded on the champion; and `perennial register` of a changed spec, the
 * other change that can call for a retrain.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { stringify } from 'yaml';
import { lifecycleWorkflowId, retrainWorkflowId, updateSpecUpdate } from '../../core/messages.ts';
import { currentSourceVersion } from '../../config/source-version.ts';
import { VENV_BIN } from '../../stack/services.ts';
import { runCli } from '../helpers/cli.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';
import { eventually, registerSeeded, startStack, testSpec, type Stack } from '../helpers/stack.ts';

let stack: Stack;
const spec = testSpec({
  features: [
    { name: 'precipitation', type: 'number', min: 0 },
    { name: 'temp_max', type: 'number' },
    { name: 'temp_min', type: 'number' },
    { name: 'wind', type: 'number', min: 0 },
  ],
});
before(async () => {
  stack = await startStack();
  await registerSeeded(stack, spec);
  await eventually('the first champion', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
});

async function readWithMlflow(): Promise<Record<string, any>> {
  const script = join(import.meta.dirname, 'champion_by_mlflow.py');
  const config = JSON.stringify({ tracking_uri: await mlflowUrl(), model: spec.name });
  const { stdout } = await promisify(execFile)(join(VENV_BIN, 'python'), [script, config], { timeout: 120_000 });
  return JSON.parse(stdout);
}

test("MLflow's own client loads the champion's model info, signature, input example, logged model and datasets", async () => {
  const seen = await readWithMlflow();
  // The signature: one double column per spec feature; the answer's label and probabilities.
  assert.deepEqual(
    seen.inputs,
    spec.features.map((f) => ({ type: 'double', name: f.name, required: true })),
  );
  assert.deepEqual(
    seen.outputs.map((c: { name: string }) => c.name),
    ['label', 'probabilities'],
  );
  assert.deepEqual(
    seen.example_columns,
    spec.features.map((f) => f.name),
  );
  assert.ok(seen.example_row.every((v: unknown) => typeof v === 'number'));
  assert.ok(seen.example_row[0] >= 0, 'the example precipitation is a median of the training data, so not negative');
  // The flavor says what the files are and which backend trained them.
  assert.equal(seen.flavors.perennial.format, 'tfjs-layers');
  assert.match(seen.flavors.perennial.backend, /^(wasm|cpu|tensorflow)$/);
  assert.deepEqual(seen.flavors.perennial.files, ['model.json', 'weights.bin', 'preprocess.json', 'profile.json']);
  // Version -> logged model -> run, all the same ids.
  assert.match(seen.model_id, /^m-/);
  assert.equal(seen.version.source, `models:/${seen.model_id}`);
  assert.equal(seen.run_id, seen.version.run_id);
  assert.equal(seen.logged_model.source_run_id, seen.run_id);
  assert.match(seen.logged_model.status, /READY/);
  assert.deepEqual(seen.run_outputs, [seen.model_id]);
  // Every trial of the sweep is a logged model (2 trials in testSpec's budget).
  assert.equal(seen.experiment_logged_models, spec.training.sweep.budget.maxTrials);
  // The training snapshot is a dataset input of the trial run and of the retrain run: one dataset.
  const snapshotHash: string = seen.retrain_snapshot_sha256;
  assert.match(snapshotHash, /^[0-9a-f]{64}$/);
  for (const datasets of [seen.run_datasets, seen.retrain_datasets]) {
    assert.equal(datasets.length, 1);
    assert.equal(datasets[0].digest, snapshotHash.slice(0, 8));
    assert.equal(datasets[0].source.sha256, snapshotHash);
    assert.equal(datasets[0].context, 'training');
    assert.equal(datasets[0].profile.num_rows, 365);
    assert.deepEqual(
      datasets[0].schema.mlflow_colspec.map((c: { name: string }) => c.name),
      [...spec.features.map((f) => f.name), spec.label.name],
    );
  }
  assert.equal(seen.retrain_run_kind, 'retrain');
  // The code that trained it: on the run and on the version.
  const code = currentSourceVersion();
  for (const tags of [seen.run_tags, seen.version.tags, seen.logged_model.tags]) {
    assert.equal(tags['perennial.code_hash'], code.codeHash);
    assert.equal(tags['mlflow.source.git.commit'], code.gitCommit);
  }
  assert.equal(seen.experiment_kind, 'custom_model_development');
});

test('retrain --if-code-changed retrains only when the code that trained the champion differs', async () => {
  const same = await runCli(stack, 'retrain', spec.name, '--if-code-changed');
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /was trained by the current code .*: no retrain/);
  await assert.rejects(stack.client.retrainStatus(retrainWorkflowId(spec.name, 2)), 'no retrain #2 started');

  // As if an older worker had trained the champion.
  await stack.mlflow.setModelVersionTag(spec.name, '1', 'perennial.code_hash', 'f'.repeat(64));
  const changed = await runCli(stack, 'retrain', spec.name, '--if-code-changed', '--by', 'ci');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /retrain of .* requested: training code changed since champion v1 of .*: ffffffffffff .*-> [0-9a-f]{12}/);
  const retrain = await eventually('retrain #2', () => stack.client.retrainStatus(retrainWorkflowId(spec.name, 2)));
  assert.match(retrain.trigger, /training code changed/);

  const noReason = await runCli(stack, 'retrain', spec.name);
  assert.equal(noReason.code, 1);
  assert.match(noReason.stderr, /--reason is required/);
});

test('register of a changed spec updates the running lifecycle with a diff, retrains on a training change, and refuses a bad spec', async () => {
  const file = join(tempDir('perennial-spec-'), 'spec.yaml');
  const changed = {
    ...spec,
    monitoring: { ...spec.monitoring, windowRows: 150 },
    training: { ...spec.training, sweep: { ...spec.training.sweep, budget: { ...spec.training.sweep.budget, maxTrials: 3 } } },
  };
  writeFileSync(file, stringify(changed));
  const registered = await runCli(stack, 'register', file);
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, /spec of .* updated \(2 changes, retrain requested\)/);
  assert.match(registered.stdout, /monitoring\.windowRows: 200 -> 150/);
  assert.match(registered.stdout, /training\.sweep\.budget\.maxTrials: 2 -> 3/);
  const status = await stack.client.status(spec.name);
  const recorded = status.history.find((h) => h.what.startsWith('spec changed by'));
  assert.ok(recorded, 'the change is in the lifecycle history');
  assert.deepEqual(recorded.reasons, ['monitoring.windowRows: 200 -> 150', 'training.sweep.budget.maxTrials: 2 -> 3']);

  // The same file again changes nothing.
  const again = await runCli(stack, 'register', file);
  assert.match(again.stdout, /spec of .* unchanged/);

  // Refused, naming the field, and nothing changes: a spec the worker finds invalid, another task queue.
  const lifecycle = stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name));
  await assert.rejects(
    lifecycle.executeUpdate(updateSpecUpdate, { args: [{ spec: { ...changed, features: 'precipitation' }, changedBy: 'test' }] }),
    (err: Error & { cause?: Error }) => /invalid spec:\n\s+- features: /.test(err.cause?.message ?? ''),
  );
  await assert.rejects(
    stack.client.updateSpec({ ...changed, taskQueue: 'elsewhere' }, 'test'),
    /taskQueue: a running lifecycle stays on its task queue/,
  );
  await assert.rejects(
    lifecycle.executeUpdate(updateSpecUpdate, { args: [{ spec: changed, changedBy: ' ' }] }),
    (err: Error & { cause?: Error }) => /changedBy/.test(err.cause?.message ?? err.message),
  );
  const after = await stack.client.status(spec.name);
  assert.equal(after.history.filter((h) => h.what.startsWith('spec changed by')).length, 1);
});

test("the MLflow UI's model-version page shows the champion's schema (headless Chromium)", async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  try {
    const page = await browser.newPage();
    await page.goto(`${await mlflowUrl()}/#/models/${spec.name}/versions/1`);
    // The UI reads the schema from the version's MLmodel (through the logged model it points at).
    const inputs = page.getByText(`Inputs (${spec.features.length})`, { exact: true });
    await inputs.waitFor({ timeout: 60_000 });
    await page.getByText('Outputs (2)', { exact: true }).waitFor();
    await page.screenshot({ path: join(tempDir('perennial-mlflow-ui-'), 'model-version.png') });
  } finally {
    await browser.close();
  }
});
