/**
 * The fleet's bulk operations as a user runs them (child processes), on the real stack:
 * `register <folder>` (all validated first), `pause|resume --where <visibility query>`, and a
 * model whose spec names its own task queue, run by a second worker process on that queue.
 *
 * Other test files share the Temporal server, so every --where here also names this file's
 * models (ModelName IN ...): a bare `Stage = 'monitoring'` would pause their models too.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { stringify } from 'yaml';
import { lifecycleWorkflowId, ModelNameKey, StageKey, trainingTaskQueue } from '../../core/messages.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { runCli } from '../helpers/cli.ts';
import { captureFixture } from '../replay/capture-fixture.ts';
import { mlflowUrl, onTeardown, temporalAddress } from '../helpers/services.ts';
import { ADMIN_TOKEN, eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const perennial = (...args: string[]) => runCli(stack, ...args);

/** A folder of spec files: YAML and JSON, and one file that is no spec at all (ignored). */
function specFolder(name: string, files: Record<string, unknown>): string {
  const folder = join(stack.dataDir, name);
  mkdirSync(join(folder, 'nested'), { recursive: true });
  for (const [file, content] of Object.entries(files))
    writeFileSync(join(folder, file), file.endsWith('.json') ? JSON.stringify(content) : stringify(content));
  writeFileSync(join(folder, 'README.txt'), 'not a spec');
  writeFileSync(join(folder, 'nested', 'ignored.yaml'), 'not: a spec');
  return folder;
}

async function lifecycleRuns(model: string): Promise<boolean> {
  try {
    const described = await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(model)).describe();
    return described.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

const names = (specs: ModelSpec[]) => specs.map((s) => `'${s.name}'`).join(', ');

// Shared by the tests below: three models registered from one folder, none with data (their
// first retrain finds nothing to train on and they settle at Stage no-champion, training nothing).
const fleet = [testSpec(), testSpec(), testSpec()];

test('register <folder>: one bad file or a name used twice registers nothing; a good folder registers every model once', async () => {
  const [a, b, c] = fleet;
  const badFolder = specFolder('bad-fleet', {
    'a.yaml': a,
    'b.json': b,
    'c.yml': { ...c, monitoring: { ...c.monitoring, interval: 'soon' } },
  });
  const bad = await perennial('register', badFolder);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /nothing registered: 1 problem\(s\) in .*bad-fleet\n.*c\.yml is not a valid model spec:\n {2}- monitoring\.interval: /,
  );
  const twice = await perennial('register', specFolder('twice', { 'a.yaml': a, 'b.json': b, 'c.yml': c, 'd.yaml': b }));
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, new RegExp(`model ${b.name} is named by .*b\\.json and .*d\\.yaml: one file per model`));
  for (const spec of fleet) assert.equal(await lifecycleRuns(spec.name), false, `${spec.name} must not be registered`);

  const good = specFolder('good-fleet', { 'a.yaml': a, 'b.json': b, 'c.yml': c });
  const registered = await perennial('register', good);
  assert.equal(registered.code, 0, registered.stderr);
  const lines = registered.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    `model ${a.name}: lifecycle workflow model/${a.name} is running`,
    `model ${b.name}: lifecycle workflow model/${b.name} is running`,
    `model ${c.name}: lifecycle workflow model/${c.name} is running`,
  ]);
  assert.equal(lines[3], '3 models: 3 started, 0 already running, 0 failed');
  for (const spec of fleet) assert.equal(await lifecycleRuns(spec.name), true, `${spec.name} runs`);

  // Again: already running is said, and is no failure.
  const again = await perennial('register', good);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`model ${a.name}: already running \\(model/${a.name}\\): spec of ${a.name} unchanged`));
  assert.match(again.stdout, /3 models: 0 started, 3 already running, 0 failed\n$/);
  const one = await perennial('register', join(good, 'a.yaml'));
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, `model ${a.name}: already running (model/${a.name}): spec of ${a.name} unchanged\n`);
});

/** The Stage attribute of each of `specs`, once visibility lists every one with a stage in `ready`. */
async function stagesWhen(
  specs: ModelSpec[],
  ready: (stage: string) => boolean,
  what: string,
  withinMs = 180_000,
): Promise<Record<string, string>> {
  return eventually(
    what,
    async () => {
      const stages: Record<string, string> = {};
      const query = `WorkflowType = 'modelLifecycle' AND ExecutionStatus = 'Running' AND ModelName IN (${names(specs)})`;
      for await (const wf of stack.client.temporal.workflow.list({ query }))
        stages[wf.typedSearchAttributes.get(ModelNameKey)!] = wf.typedSearchAttributes.get(StageKey) ?? '';
      if (Object.keys(stages).length === specs.length && Object.values(stages).every(ready)) return stages;
      throw new Error(`listed ${JSON.stringify(stages)}`);
    },
    withinMs,
  );
}

const pausedOf = async (specs: ModelSpec[]) => Promise.all(specs.map(async (s) => (await stack.client.status(s.name)).paused));

test('pause and resume --where change exactly the models the visibility query selects', { timeout: 5 * 60_000 }, async () => {
  const [a, b, c] = fleet;
  await stagesWhen(fleet, (stage) => stage === 'no-champion', 'the three models settled without a champion');

  const dry = await perennial('pause', '--where', `ModelName IN (${names([a, b])})`, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.stdout.trimEnd().split('\n'), [
    ...[a, b]
      .map((s) => s.name)
      .sort()
      .map((m) => `${m}: would be paused (no-champion)`),
    `2 would be paused, 0 already paused, 0 failed (of 2 models where ModelName IN (${names([a, b])}))`,
  ]);
  assert.deepEqual(await pausedOf(fleet), [false, false, false], 'a dry run changes nothing');

  const paused = await perennial('pause', '--where', `ModelName IN (${names([a, b])}) AND Stage = 'no-champion'`);
  assert.equal(paused.code, 0, paused.stderr);
  assert.match(paused.stdout, /^2 paused, 0 already paused, 0 failed \(of 2 models where /m);
  assert.deepEqual(await pausedOf(fleet), [true, true, false]);

  // A pause shows in the fleet view at once, even on an idle lifecycle (no champion: no timer
  // would wake it); then a wider pause counts them as already paused.
  await stagesWhen([a, b], (stage) => stage === 'paused', 'a and b listed as paused', 20_000);
  const wider = await perennial('pause', '--where', `ModelName IN (${names(fleet)})`);
  assert.equal(wider.code, 0, wider.stderr);
  assert.match(wider.stdout, new RegExp(`^${a.name}: already paused \\(paused\\)$`, 'm'));
  assert.match(wider.stdout, new RegExp(`^${c.name}: paused$`, 'm'));
  assert.match(wider.stdout, /^1 paused, 2 already paused, 0 failed/m);
  assert.deepEqual(await pausedOf(fleet), [true, true, true]);

  await stagesWhen(fleet, (stage) => stage === 'paused', 'all three listed as paused', 20_000);
  for (const model of [a.name, c.name]) await captureFixture(stack.client.temporal, lifecycleWorkflowId(model));
  const resumed = await perennial('resume', '--where', `Stage = 'paused' AND ModelName IN (${names([a, c])})`);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /^2 resumed, 0 not paused, 0 failed/m);
  assert.deepEqual(await pausedOf(fleet), [false, true, false]);

  // --all selects every managed model; dry, so other tests' models are left alone.
  const all = await perennial('resume', '--all', '--dry-run');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, new RegExp(`^${b.name}: would be resumed \\(paused\\)$`, 'm'));
  assert.deepEqual(await pausedOf(fleet), [false, true, false]);
});

test('pause --where: a query Temporal refuses, or a model and --where together, is a clear error that signals nothing', async () => {
  const [a] = fleet;
  const before = await pausedOf(fleet);
  for (const where of ["Stage = 'paused' AND", 'Colour = 1', ' ']) {
    const out = await perennial('pause', '--where', where);
    assert.equal(out.code, 1, out.stdout);
    assert.match(out.stderr, /^perennial: --where /, `--where ${JSON.stringify(where)}: ${out.stderr}`);
  }
  const both = await perennial('pause', a.name, '--where', `ModelName = '${a.name}'`);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /^perennial: pause one model, or use --where <query> or --all \(only one of them\)/);
  const dryOne = await perennial('pause', a.name, '--dry-run');
  assert.equal(dryOne.code, 1);
  assert.match(dryOne.stderr, /--dry-run goes with --where or --all/);
  assert.deepEqual(await pausedOf(fleet), before);
});

/** worker/main.ts as its own process, polling `taskQueue`; resolves once it polls. */
async function startWorkerProcess(taskQueue: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'worker', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: await temporalAddress(),
      MLFLOW_TRACKING_URI: await mlflowUrl(),
      PERENNIAL_TASK_QUEUE: taskQueue,
      PERENNIAL_DB: join(stack.dataDir, 'perennial.sqlite'),
      PERENNIAL_DATA_DIR: join(stack.dataDir, `worker-${taskQueue}`),
      PERENNIAL_SERVING_URL: stack.servingUrl,
      PERENNIAL_ADMIN_TOKEN: ADMIN_TOKEN,
      PERENNIAL_TRAINING_SLOTS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTeardown(() => (child.kill('SIGTERM'), exited));
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('perennial worker polling')) resolve();
      });
    void exited.then((code) => reject(new Error(`worker/main.ts exited with ${code}:\n${output.join('\n')}`)));
  });
  return { pid: child.pid!, output };
}

/** Every workflow of a chain (the lifecycle, its retrains, their sweeps): its task queue and the events that say who ran what. */
async function chainOf(workflowId: string) {
  const seen: { workflowId: string; taskQueue: string; activityQueues: string[]; identities: string[] }[] = [];
  const visit = async (id: string) => {
    const history = await stack.client.temporal.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    seen.push({
      workflowId: id,
      taskQueue: events[0].workflowExecutionStartedEventAttributes!.taskQueue!.name!,
      activityQueues: events.flatMap((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name ?? []),
      // Who took each workflow task and each activity.
      identities: events.flatMap(
        (e) => e.workflowTaskStartedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity ?? [],
      ),
    });
    for (const e of events) {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child) await visit(child);
    }
  };
  await visit(workflowId);
  return seen;
}

test(
  'a model whose spec names a task queue is run by the worker on that queue, never by the default worker',
  { timeout: 10 * 60_000 },
  async () => {
    const gpu = `gpu-${randomUUID().slice(0, 8)}`;
    const worker = await startWorkerProcess(gpu);
    const spec = testSpec({ taskQueue: gpu });
    await seedRecords(stack.store, spec);
    const folder = specFolder('own-queue', { 'model.yaml': spec });
    const registered = await perennial('register', folder);
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(
      registered.stdout,
      new RegExp(`^model ${spec.name}: lifecycle workflow model/${spec.name} is running on task queue ${gpu}$`, 'm'),
    );

    // The whole chain: the lifecycle trains its first champion (retrain, sweep, trial rungs) on the model's workers.
    await eventually(
      'the first champion',
      async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined),
      480_000,
    );
    const chain = await chainOf(lifecycleWorkflowId(spec.name));
    assert.ok(chain.length >= 3, `lifecycle, retrain and sweep: ${chain.map((w) => w.workflowId).join(', ')}`);
    const workerIdentity = new RegExp(`^${worker.pid}@`);
    for (const wf of chain) {
      assert.equal(wf.taskQueue, gpu, `${wf.workflowId} runs on ${wf.taskQueue}`);
      for (const queue of wf.activityQueues)
        assert.ok([gpu, trainingTaskQueue(gpu)].includes(queue), `${wf.workflowId}: an activity on ${queue}`);
      assert.ok(wf.identities.length > 0, wf.workflowId);
      for (const identity of wf.identities) assert.match(identity, workerIdentity, `${wf.workflowId} was served by ${identity}`);
    }
    const activities = chain.flatMap((wf) => wf.activityQueues);
    assert.ok(activities.includes(trainingTaskQueue(gpu)), `trial rungs on ${trainingTaskQueue(gpu)}: ${activities.join(', ')}`);
    // The default worker (this process) never served any of it.
    const ours = new RegExp(`^${process.pid}@`);
    assert.equal(chain.flatMap((wf) => wf.identities).filter((id) => ours.test(id)).length, 0);

    rmSync(folder, { recursive: true });
    await stack.client.stop(spec.name);
  },
);
