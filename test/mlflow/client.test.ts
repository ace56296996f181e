/**
 * Perennial's MLflow client against a real MLflow server. Checks go through the REST API
 * directly where reading back through the client could hide a client bug.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { MlflowClient, MlflowError, type MetricPoint } from '../../adapters/mlflow/client.ts';
import { freePort } from '../../stack/services.ts';
import { mlflowUrl } from '../helpers/services.ts';

let url: string;
let mlflow: MlflowClient;
before(async () => {
  url = await mlflowUrl();
  mlflow = new MlflowClient(url);
});
after(() => mlflow?.close());

/** Names unique per test, so tests never see each other's data on a shared server. */
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function rest(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const response = await request(`${url}/api/2.0/mlflow/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.body.json();
  assert.equal(response.statusCode, 200, JSON.stringify(json));
  return json;
}

async function newRun(runName = 'run') {
  const experimentId = await mlflow.getOrCreateExperiment(unique('client-test'));
  const { run } = await mlflow.findOrCreateRun({ experimentId, key: unique('key'), runName });
  return run;
}

async function rejection(promise: Promise<unknown>): Promise<MlflowError> {
  const error = await promise.then(
    () => assert.fail('expected an MlflowError'),
    (error: unknown) => error,
  );
  assert.ok(error instanceof MlflowError, `expected an MlflowError, got ${String(error)}`);
  return error;
}

test('getOrCreateExperiment returns the same id twice, sets its tags and restores a deleted one', async () => {
  const name = unique('exp');
  const id = await mlflow.getOrCreateExperiment(name, { 'perennial.model': 'iris' });
  assert.equal(await mlflow.getOrCreateExperiment(name, { 'perennial.owner': 'ml-team' }), id);

  const { experiment } = await rest('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
  const tags = Object.fromEntries(experiment.tags.map((t: { key: string; value: string }) => [t.key, t.value]));
  assert.equal(tags['mlflow.experimentKind'], 'custom_model_development');
  assert.equal(tags['perennial.model'], 'iris');
  assert.equal(tags['perennial.owner'], 'ml-team');

  await rest('POST', 'experiments/delete', { experiment_id: id });
  assert.equal(await mlflow.getOrCreateExperiment(name), id);
  const restored = await rest('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
  assert.equal(restored.experiment.lifecycle_stage, 'active');
});

test('findOrCreateRun with the same key twice makes one run', async () => {
  const experimentId = await mlflow.getOrCreateExperiment(unique('runs'));
  const key = unique('model/retrain/7/trial/3');
  const first = await mlflow.findOrCreateRun({ experimentId, key, runName: 'trial-3', tags: { 'perennial.kind': 'trial' } });
  const second = await mlflow.findOrCreateRun({ experimentId, key, runName: 'trial-3' });

  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.run.runId, first.run.runId);
  assert.equal(first.run.runName, 'trial-3');
  assert.equal(first.run.status, 'RUNNING');
  assert.equal(first.run.tags['perennial.kind'], 'trial');
  assert.match(first.run.artifactUri, new RegExp(`^mlflow-artifacts:/${experimentId}/${first.run.runId}/artifacts$`));
  const found = await mlflow.searchRuns([experimentId], `tags.\`perennial.key\` = '${key}'`);
  assert.deepEqual(
    found.map((run) => run.runId),
    [first.run.runId],
  );
  // Not even a duplicate created and deleted again.
  const { runs } = await rest('POST', 'runs/search', { experiment_ids: [experimentId], run_view_type: 'ALL' });
  assert.equal(runs.length, 1);
});

test('concurrent findOrCreateRun calls with one key agree on one run, every round', async () => {
  const experimentId = await mlflow.getOrCreateExperiment(unique('race'));
  const racers = [new MlflowClient(url), new MlflowClient(url), new MlflowClient(url)];
  try {
    for (let round = 0; round < 20; round++) {
      const key = unique('race');
      const results = await Promise.all(racers.map((client) => client.findOrCreateRun({ experimentId, key, runName: 'race' })));
      const ids = new Set(results.map((r) => r.run.runId));
      assert.equal(ids.size, 1, `round ${round}: racers kept ${[...ids].join(', ')}`);
      assert.equal(results.filter((r) => r.created).length, 1, `round ${round}: exactly one racer created the winner`);
      const active = await mlflow.searchRuns([experimentId], `tags.\`perennial.key\` = '${key}'`);
      assert.deepEqual(
        active.map((run) => run.runId),
        [...ids],
        `round ${round}: the winner is the only active run`,
      );
      const later = await mlflow.findOrCreateRun({ experimentId, key, runName: 'race' });
      assert.deepEqual([later.run.runId, later.created], [[...ids][0], false]);
    }
  } finally {
    await Promise.all(racers.map((client) => client.close()));
  }
});

test('a racer whose run lands after ours but started earlier wins, and ours is deleted', async () => {
  // The interleaving that used to keep two runs: we create and look, then a racer that had
  // also found nothing creates its run with an older start time.
  const experimentId = await mlflow.getOrCreateExperiment(unique('late-racer'));
  const key = unique('race');
  const ours = new MlflowClient(url, { raceSettleMs: 3000 });
  try {
    const pending = ours.findOrCreateRun({ experimentId, key, runName: 'ours' });
    const filter = { experiment_ids: [experimentId], filter: `tags.\`perennial.key\` = '${key}'`, run_view_type: 'ALL' };
    let mine: any;
    while (!mine) [mine] = (await rest('POST', 'runs/search', filter)).runs ?? [];
    const { run: theirs } = await rest('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: 'theirs',
      start_time: mine.info.start_time - 1000,
      tags: [{ key: 'perennial.key', value: key }],
    });
    const result = await pending;
    assert.deepEqual([result.run.runId, result.created], [theirs.info.run_id, false]);
    assert.equal((await rest('GET', `runs/get?run_id=${mine.info.run_id}`)).run.info.lifecycle_stage, 'deleted');
    assert.equal((await rest('GET', `runs/get?run_id=${theirs.info.run_id}`)).run.info.lifecycle_stage, 'active');
  } finally {
    await ours.close();
  }
});

test('findOrCreateRun restores its run when it was deleted', async () => {
  const experimentId = await mlflow.getOrCreateExperiment(unique('deleted'));
  const key = unique('key');
  const { run } = await mlflow.findOrCreateRun({ experimentId, key, runName: 'r' });
  await rest('POST', 'runs/delete', { run_id: run.runId });
  const again = await mlflow.findOrCreateRun({ experimentId, key, runName: 'r' });
  assert.deepEqual([again.run.runId, again.created], [run.runId, false]);
  assert.equal((await rest('GET', `runs/get?run_id=${run.runId}`)).run.info.lifecycle_stage, 'active');
});

test('findOrCreateRun picks the oldest active run among duplicates a race left, deleting none', async () => {
  const experimentId = await mlflow.getOrCreateExperiment(unique('duplicates'));
  const key = unique('key');
  const create = async (start_time: number) =>
    (
      await rest('POST', 'runs/create', {
        experiment_id: experimentId,
        run_name: 'dup',
        start_time,
        tags: [{ key: 'perennial.key', value: key }],
      })
    ).run.info.run_id as string;
  const deletedOldest = await create(1000);
  const oldestActive = await create(2000);
  const newer = await create(3000);
  await rest('POST', 'runs/delete', { run_id: deletedOldest });

  const found = await mlflow.findOrCreateRun({ experimentId, key, runName: 'dup' });
  assert.deepEqual([found.run.runId, found.created], [oldestActive, false]);
  const stages = await Promise.all(
    [deletedOldest, oldestActive, newer].map(async (id) => (await rest('GET', `runs/get?run_id=${id}`)).run.info.lifecycle_stage),
  );
  assert.deepEqual(stages, ['deleted', 'active', 'active']);
});

test('a nested run carries its parent tag and childRuns finds it', async () => {
  const experimentId = await mlflow.getOrCreateExperiment(unique('nested'));
  const { run: parent } = await mlflow.findOrCreateRun({ experimentId, key: unique('parent'), runName: 'retrain' });
  const { run: child } = await mlflow.findOrCreateRun({
    experimentId,
    key: unique('child'),
    runName: 'candidate',
    parentRunId: parent.runId,
  });
  await mlflow.findOrCreateRun({ experimentId, key: unique('other'), runName: 'unrelated' });

  assert.equal(child.tags['mlflow.parentRunId'], parent.runId);
  const children = await mlflow.childRuns(experimentId, parent.runId);
  assert.deepEqual(
    children.map((run) => run.runId),
    [child.runId],
  );
  assert.deepEqual(await mlflow.childRuns(experimentId, child.runId), []);
});

test('logBatch splits large batches and metricHistory reads them back by step', async () => {
  const run = await newRun();
  const metrics: MetricPoint[] = Array.from({ length: 2500 }, (_, step) => ({
    key: 'train/loss',
    value: 1 / (step + 1),
    step,
    timestamp: 1_700_000_000_000 + step,
  }));
  const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`param_${i}`, i]));
  const tags = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`tag.${i}`, `value ${i}`]));
  await mlflow.logBatch(run.runId, { metrics, params: { ...params, enabled: true }, tags });
  // Logging the same points again (as a retry does) adds nothing.
  await mlflow.logBatch(run.runId, { metrics: metrics.slice(0, 10), params: { param_0: 0 } });

  const history = (await mlflow.metricHistory(run.runId, 'train/loss')).sort((a, b) => a.step - b.step);
  assert.deepEqual(history, metrics);

  const read = await mlflow.getRun(run.runId);
  assert.equal(Object.keys(read.params).length, 151);
  assert.equal(read.params.param_149, '149');
  assert.equal(read.params.enabled, 'true');
  assert.equal(read.tags['tag.119'], 'value 119');
  assert.equal(read.metrics['train/loss'], 1 / 2500);
});

test('logBatch keeps NaN metrics and gives points without a timestamp the current time', async () => {
  const run = await newRun();
  const before = Date.now();
  await mlflow.logBatch(run.runId, { metrics: [{ key: 'val_loss', value: NaN, step: 3 }] });
  const [point, ...rest] = await mlflow.metricHistory(run.runId, 'val_loss');
  assert.equal(rest.length, 0);
  assert.ok(Number.isNaN(point.value));
  assert.equal(point.step, 3);
  assert.ok(point.timestamp! >= before && point.timestamp! <= Date.now(), `timestamp ${point.timestamp} is now`);
});

test('re-logging a param with another value is an INVALID_PARAMETER_VALUE MlflowError', async () => {
  const run = await newRun();
  await mlflow.logBatch(run.runId, { params: { learning_rate: 0.1 } });
  await mlflow.logBatch(run.runId, { params: { learning_rate: 0.1 } });
  const error = await rejection(mlflow.logBatch(run.runId, { params: { learning_rate: 0.2 } }));
  assert.equal(error.errorCode, 'INVALID_PARAMETER_VALUE');
  assert.equal(error.status, 400);
  assert.match(error.message, /POST \/api\/2\.0\/mlflow\/runs\/log-batch/);
  assert.match(error.message, /learning_rate/);
  assert.equal((await mlflow.getRun(run.runId)).params.learning_rate, '0.1');

  // The conflicting param is refused before any metric of the same batch is written.
  const metrics = Array.from({ length: 1500 }, (_, step) => ({ key: 'loss', value: step, step }));
  await rejection(mlflow.logBatch(run.runId, { metrics, params: { learning_rate: 0.3 } }));
  assert.deepEqual(await mlflow.metricHistory(run.runId, 'loss'), []);
});

test('keys and steps MLflow would reject or mangle fail before any request, naming the key', async () => {
  const run = await newRun();
  await assert.rejects(mlflow.logBatch(run.runId, { metrics: [{ key: 'loss@val', value: 1, step: 0 }] }), /metric key "loss@val"/);
  await assert.rejects(mlflow.logBatch(run.runId, { metrics: [{ key: '../loss', value: 1, step: 0 }] }), /metric key "\.\.\/loss"/);
  await assert.rejects(
    mlflow.logBatch(run.runId, { metrics: [{ key: 'loss', value: 1, step: 1.5 }] }),
    /"loss": step 1\.5 must be an integer/,
  );
  await assert.rejects(mlflow.logBatch(run.runId, { params: { ['a'.repeat(251)]: 1 } }), /param key "a+" must be 1 to 250/);
  await assert.rejects(mlflow.setTag(run.runId, 'owner?', 'x'), /run tag "owner\?"/);
  assert.deepEqual((await mlflow.getRun(run.runId)).metrics, {});
});

test('setTag and finishRun update the run', async () => {
  const run = await newRun();
  await mlflow.setTag(run.runId, 'mlflow.note.content', '# Notes');
  await mlflow.finishRun(run.runId, 'FAILED', run.startTime + 5000);
  const { run: raw } = await rest('GET', `runs/get?run_id=${run.runId}`);
  assert.equal(raw.info.status, 'FAILED');
  assert.equal(raw.info.end_time, run.startTime + 5000);
  assert.equal((await mlflow.getRun(run.runId)).tags['mlflow.note.content'], '# Notes');
});

test('a missing run is a RESOURCE_DOES_NOT_EXIST MlflowError', async () => {
  const error = await rejection(mlflow.getRun('0123456789abcdef0123456789abcdef'));
  assert.equal(error.errorCode, 'RESOURCE_DOES_NOT_EXIST');
  assert.equal(error.status, 404);
  assert.match(error.message, /GET \/api\/2\.0\/mlflow\/runs\/get/);
});

test('artifacts round-trip binary bytes and nested paths with spaces', async () => {
  const run = await newRun();
  const bytes = new Uint8Array(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256));
  await mlflow.uploadArtifact(run.artifactUri, 'model/weights dir/weights 1.bin', bytes);
  await mlflow.uploadArtifact(run.artifactUri, 'model/model.json', '{"format":"layers-model"}', 'application/json');
  await mlflow.uploadArtifact(run.artifactUri, 'notes (1)?.txt', 'first');
  await mlflow.uploadArtifact(run.artifactUri, 'notes (1)?.txt', 'second');

  assert.deepEqual(await mlflow.downloadArtifact(run.artifactUri, 'model/weights dir/weights 1.bin'), bytes);
  assert.equal(Buffer.from(await mlflow.downloadArtifact(run.artifactUri, 'model/model.json')).toString(), '{"format":"layers-model"}');
  assert.equal(Buffer.from(await mlflow.downloadArtifact(run.artifactUri, 'notes (1)?.txt')).toString(), 'second');

  const byPath = <T extends { path: string }>(entries: T[]) => entries.sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(byPath(await mlflow.listArtifacts(run.artifactUri)), [
    { path: 'model', isDir: true, size: undefined },
    { path: 'notes (1)?.txt', isDir: false, size: 6 },
  ]);
  assert.deepEqual(byPath(await mlflow.listArtifacts(run.artifactUri, 'model')), [
    { path: 'model/model.json', isDir: false, size: 25 },
    { path: 'model/weights dir', isDir: true, size: undefined },
  ]);
  assert.deepEqual(await mlflow.listArtifacts(run.artifactUri, 'model/weights dir'), [
    { path: 'model/weights dir/weights 1.bin', isDir: false, size: 1024 },
  ]);
  assert.deepEqual(await mlflow.listArtifacts(run.artifactUri, 'nothing/here'), []);

  await assert.rejects(mlflow.uploadArtifact(run.artifactUri, 'notes #2.txt', 'x'), /artifact path "notes #2.txt" must not contain "#"/);

  const missing = await rejection(mlflow.downloadArtifact(run.artifactUri, 'model/absent.bin'));
  assert.equal(missing.errorCode, 'RESOURCE_DOES_NOT_EXIST');
  // The artifact proxy answers this one outside MLflow's error format.
  const directory = await rejection(mlflow.downloadArtifact(run.artifactUri, 'model'));
  assert.deepEqual([directory.status, directory.errorCode], [400, 'HTTP_400']);
  assert.match(directory.message, /refers to a directory/);
});

test('findOrCreateModelVersion twice registers one version', async () => {
  const run = await newRun();
  const name = unique('model');
  await mlflow.ensureRegisteredModel(name, 'test model');
  await mlflow.ensureRegisteredModel(name, 'test model');
  const input = { name, source: `${run.artifactUri}/model`, runId: run.runId, tags: { 'perennial.val_accuracy': '0.93' } };
  const first = await mlflow.findOrCreateModelVersion(input);
  const second = await mlflow.findOrCreateModelVersion(input);

  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.deepEqual(second.version, first.version);
  assert.deepEqual(first.version, {
    name,
    version: '1',
    runId: run.runId,
    source: `${run.artifactUri}/model`,
    tags: { 'perennial.val_accuracy': '0.93' },
    aliases: [],
    status: 'READY',
  });
  const { model_versions } = await rest('GET', `model-versions/search?filter=${encodeURIComponent(`name='${name}'`)}`);
  assert.equal(model_versions.length, 1);
  // Not even a duplicate created and deleted again: that would have used up version 2.
  const other = await newRun('other');
  const next = await mlflow.findOrCreateModelVersion({ name, source: `${other.artifactUri}/model`, runId: other.runId });
  assert.equal(next.version.version, '2');

  await mlflow.setModelVersionTag(name, '1', 'perennial.outcome', 'champion');
  assert.equal((await mlflow.getModelVersion(name, '1')).tags['perennial.outcome'], 'champion');
  assert.deepEqual(await mlflow.getRegisteredModel(name), { name, aliases: {}, latestVersions: ['2'] });
  assert.equal(await mlflow.getRegisteredModel(unique('absent')), undefined);
});

test('concurrent findOrCreateModelVersion calls for one run settle on one version', async () => {
  const run = await newRun();
  const name = unique('raced-model');
  await mlflow.ensureRegisteredModel(name);
  const racers = [new MlflowClient(url), new MlflowClient(url), new MlflowClient(url)];
  try {
    const input = { name, source: `${run.artifactUri}/model`, runId: run.runId };
    const results = await Promise.all(racers.map((client) => client.findOrCreateModelVersion(input)));
    assert.deepEqual(new Set(results.map((r) => r.version.version)), new Set(['1']));
    assert.equal(results.filter((r) => r.created).length, 1);
    const { model_versions } = await rest('GET', `model-versions/search?filter=${encodeURIComponent(`name='${name}'`)}`);
    assert.deepEqual(
      model_versions.map((v: { version: string }) => v.version),
      ['1'],
    );
  } finally {
    await Promise.all(racers.map((client) => client.close()));
  }
});

test('aliases: set, read, move, delete, and missing ones are undefined', async () => {
  const name = unique('aliased');
  await mlflow.ensureRegisteredModel(name);
  const [runA, runB] = [await newRun('a'), await newRun('b')];
  const { version: v1 } = await mlflow.findOrCreateModelVersion({ name, source: `${runA.artifactUri}/model`, runId: runA.runId });
  const { version: v2 } = await mlflow.findOrCreateModelVersion({ name, source: `${runB.artifactUri}/model`, runId: runB.runId });
  assert.deepEqual([v1.version, v2.version], ['1', '2']);

  assert.equal(await mlflow.getVersionByAlias(name, 'champion'), undefined);
  await mlflow.setAlias(name, 'champion', '1');
  await mlflow.setAlias(name, 'challenger', '2');
  const champion = await mlflow.getVersionByAlias(name, 'champion');
  assert.equal(champion?.version, '1');
  assert.equal(champion?.runId, runA.runId);
  assert.deepEqual(champion?.aliases, ['champion']);
  assert.deepEqual((await mlflow.getRegisteredModel(name))?.aliases, { champion: '1', challenger: '2' });

  await mlflow.setAlias(name, 'champion', '2');
  assert.equal((await mlflow.getVersionByAlias(name, 'champion'))?.version, '2');
  await mlflow.deleteAlias(name, 'challenger');
  await mlflow.deleteAlias(name, 'challenger');
  assert.equal(await mlflow.getVersionByAlias(name, 'challenger'), undefined);
  assert.deepEqual((await mlflow.getRegisteredModel(name))?.aliases, { champion: '2' });
  assert.equal(await mlflow.getVersionByAlias(unique('unregistered'), 'champion'), undefined);
  await assert.rejects(mlflow.getVersionByAlias(name, 'bad alias'), /alias "bad alias"/);
});

test('an unreachable server is an UNREACHABLE MlflowError naming the URL, quickly', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const client = new MlflowClient(closed, { retries: 0 });
  try {
    const started = Date.now();
    const error = await rejection(client.getOrCreateExperiment('anything'));
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
    assert.deepEqual([error.status, error.errorCode], [0, 'UNREACHABLE']);
    assert.ok(error.message.includes(closed), error.message);
    assert.match(error.message, /ECONNREFUSED/);
  } finally {
    await client.close();
  }
});

test('connection errors are retried with backoff', async () => {
  const client = new MlflowClient(`http://127.0.0.1:${await freePort()}`, { retries: 2 });
  try {
    const started = Date.now();
    const error = await rejection(client.getRun('x'));
    // Waits of 200 and 400 ms between three attempts.
    assert.ok(Date.now() - started >= 600, `gave up after ${Date.now() - started} ms`);
    assert.equal(error.errorCode, 'UNREACHABLE');
  } finally {
    await client.close();
  }
});

test('logged models: keyed creation finds a PENDING one again, concurrent creators settle on one, a second output link is a no-op', async () => {
  const run = await newRun('trial');
  const input = { experimentId: run.experimentId, key: run.runId, name: 'trial', modelType: 'perennial', sourceRunId: run.runId };
  const first = await mlflow.findOrCreateLoggedModel({ ...input, params: { family: 'mlp' }, tags: { 'perennial.model': 'm' } });
  assert.equal(first.created, true);
  assert.equal(first.model.status, 'LOGGED_MODEL_PENDING');
  assert.match(first.model.artifactUri, new RegExp(`/models/${first.model.modelId}/artifacts$`));
  // A retry after a crash between create and finalize finds the same PENDING model.
  const again = await mlflow.findOrCreateLoggedModel(input);
  assert.deepEqual([again.created, again.model.modelId], [false, first.model.modelId]);
  await mlflow.finalizeLoggedModel(first.model.modelId);
  assert.equal((await mlflow.getLoggedModel(first.model.modelId)).status, 'LOGGED_MODEL_READY');
  await mlflow.logModelOutput(run.runId, first.model.modelId, 9);
  await mlflow.logModelOutput(run.runId, first.model.modelId, 9);
  const { run: raw } = await rest('GET', `runs/get?run_id=${run.runId}`);
  assert.deepEqual(raw.outputs.model_outputs, [{ model_id: first.model.modelId, step: 9 }]);

  // Five clients create one key at once: all answer with one model, and only it is left.
  const other = await newRun('racing trial');
  const racers = Array.from({ length: 5 }, () => new MlflowClient(url));
  try {
    const key = { ...input, experimentId: other.experimentId, key: other.runId, sourceRunId: other.runId };
    const answers = await Promise.all(racers.map((client) => client.findOrCreateLoggedModel(key)));
    assert.equal(new Set(answers.map((a) => a.model.modelId)).size, 1);
    const { models } = await rest('POST', 'logged-models/search', { experiment_ids: [other.experimentId] });
    assert.deepEqual(
      models.map((m: { info: { model_id: string } }) => m.info.model_id),
      [answers[0].model.modelId],
    );
  } finally {
    await Promise.all(racers.map((client) => client.close()));
  }
});
