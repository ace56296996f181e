/**
 * The namespace-wide training limit on a real Temporal dev server and worker, with real retrains
 * (MLflow, tfjs): sweeps of different models wait for training permits in turn, the wait shows in
 * their status and the CLI, a retrain's approval wait holds no permit, a holder terminated without
 * releasing gives its permit back, and bad limits are refused naming the field.
 *
 * The limit is namespace-wide, so this file runs in a namespace of its own: sweeps of the other
 * test files sharing the dev server must not wait on it.
 * PERENNIAL_CAPTURE=v11 also writes the sweeps' and the permits workflow's histories as replay
 * fixtures (test/replay).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import type { RetrainRun, Snapshot } from '../../core/contracts.ts';
import type { SweepInput } from '../../workflows/sweep.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import { releasePermitSignal, setTrainingLimitUpdate, TRAINING_PERMITS_WORKFLOW_ID } from '../../core/training-permits.ts';
import { TrainingLimitError } from '../../client/client.ts';
import { captureFixture } from '../replay/capture-fixture.ts';
import { ADMIN_TOKEN, eventually, registerSeeded, seedRecords, startStack, testSpec, type Stack } from '../helpers/stack.ts';
import { createNamespace } from '../helpers/namespace.ts';
import { runCli } from '../helpers/cli.ts';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let stack: Stack;
before(async () => {
  const namespace = await createNamespace('permits');
  // The CLI runs as a child process and finds the namespace where a user's would: the environment.
  process.env.TEMPORAL_NAMESPACE = namespace;
  stack = await startStack({ namespace });
});

const sweepId = (model: string) => `${retrainWorkflowId(model, 1)}/sweep`;
const handle = (workflowId: string) => stack.client.temporal.workflow.getHandle(workflowId);
const eventsOf = async (workflowId: string) => (await handle(workflowId).fetchHistory()).events ?? [];
const timeOf = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
const signalsOf = (events: HistoryEvent[]) => events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
const firstRung = (events: HistoryEvent[]) =>
  events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainTrialRung');
const permitsState = () => stack.client.trainingPermits();
const holding = async (model: string) => ((await permitsState())?.holders.some((h) => h.model === model) ? true : undefined);

test('without a limit nothing waits: the sweep finds no permits workflow and trains at once', async () => {
  const spec = testSpec();
  await registerSeeded(stack, spec);
  await eventually('retrain #1 started', () => handle(retrainWorkflowId(spec.name, 1)).describe());
  await handle(retrainWorkflowId(spec.name, 1)).result();
  const events = await eventsOf(sweepId(spec.name));
  assert.ok(
    events.some((e) => e.signalExternalWorkflowExecutionFailedEventAttributes),
    'the permit request found no permits workflow',
  );
  assert.deepEqual(signalsOf(events), [], 'no permit was waited for');
  assert.ok(firstRung(events));
  assert.equal(await permitsState(), undefined);
  const shown = await runCli(stack, 'training-limit');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /training limit: none \(never set\)/);
  await captureFixture(stack.client.temporal, sweepId(spec.name));
});

test('with a limit of 1, models sweep one at a time in the order they asked; the permit of a terminated holder is reclaimed', async () => {
  // Checked every 2 s (instead of every minute) so that the reclaim comes quickly.
  const state = await stack.client.setTrainingLimit(1, { checkHoldersEvery: '2s' });
  assert.deepEqual(state, { limit: 1, holders: [], queue: [] });
  const blocker = await blockingSweep();
  await eventually(`${blocker}'s sweep holding the permit`, () => holding(blocker));
  // The first model waits for approval after its sweep: a wait that must not hold a permit.
  const first = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'reject' } });
  const second = testSpec();
  await registerSeeded(stack, first);
  await eventually(`${first.name}'s sweep waiting`, async () => ((await permitsState())?.queue.length === 1 ? true : undefined));
  await registerSeeded(stack, second);
  await eventually(`${second.name}'s sweep waiting`, async () => ((await permitsState())?.queue.length === 2 ? true : undefined));

  const waiting = await stack.client.sweepStatus(retrainWorkflowId(second.name, 1));
  assert.equal(waiting.permit, 'waiting for a training permit (1 ahead when it asked)');
  assert.equal(waiting.rungsDone, 0);
  const status = await runCli(stack, 'status', second.name, '--json');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /"stage": "sweep: waiting for a training permit \(1 ahead\)"/);
  const shown = await runCli(stack, 'training-limit');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /training limit: 1 sweep at once in this namespace/);
  assert.match(shown.stdout, new RegExp(`training \\(1\\):\\n  ${blocker}  ${sweepId(blocker)}  since `));
  assert.match(
    shown.stdout,
    new RegExp(`waiting, first in line first \\(2\\):\\n  ${first.name}  ${sweepId(first.name)}  since .*\\n  ${second.name}  `),
  );

  // The holder ends without releasing: the next holder check gives its permit to the first in line.
  await handle(sweepId(blocker)).terminate('test: a holder that never releases');
  await eventually(`${first.name}'s sweep granted`, () => holding(first.name));
  // The second retrain runs to its end while the first waits for its reviewer.
  await handle(retrainWorkflowId(second.name, 1)).result();
  assert.equal((await stack.client.retrainStatus(retrainWorkflowId(first.name, 1))).stage, 'awaiting-approval');
  await stack.client.review(first.name, 'approve', { reviewer: 'ana', comment: '' });
  await handle(retrainWorkflowId(first.name, 1)).result();

  const [a, b] = await Promise.all([eventsOf(sweepId(first.name)), eventsOf(sweepId(second.name))]);
  assert.deepEqual(signalsOf(a), ['permitQueued', 'permitGranted']);
  assert.deepEqual(signalsOf(b), ['permitQueued', 'permitGranted']);
  const released = [...a].reverse().find((e) => e.externalWorkflowExecutionSignaledEventAttributes)!;
  const firstDone = Math.max(...a.filter((e) => e.activityTaskCompletedEventAttributes).map(timeOf));
  const secondStarts = timeOf(firstRung(b)!);
  assert.ok(timeOf(released) >= firstDone, 'the first sweep released its permit after its last activity');
  assert.ok(secondStarts >= timeOf(released), `second sweep's first rung ${secondStarts} before the first's release ${timeOf(released)}`);
  assert.deepEqual(await permitsState(), { limit: 1, holders: [], queue: [] });
  console.log(`second sweep waited ${(secondStarts - timeOf(b[0])) / 1000} s for its permit`);
  await captureFixture(stack.client.temporal, sweepId(second.name));
});

/**
 * A sweep that takes a permit and never gives it back by itself: its rungs go to a task queue no
 * worker polls. It gets what a retrain would hand it (a retrain run, a snapshot) from the real
 * activities, as test/workflows/sweep-crash.test.ts does.
 */
async function blockingSweep(): Promise<string> {
  const spec = testSpec();
  await seedRecords(stack.store, spec);
  const activities = createActivities({
    mlflow: stack.mlflow,
    store: stack.store,
    serving: { url: stack.servingUrl, adminToken: ADMIN_TOKEN },
    cacheDir: join(stack.dataDir, 'cache'),
  });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: retrainWorkflowId(spec.name, 1), runId: randomUUID() } });
  const retrainRun = (await env.run(activities.startRetrainRun as never, {
    model: spec.name,
    n: 1,
    trigger: 'a blocker',
    rules: ['manual'],
  })) as RetrainRun;
  const snapshot = (await env.run(activities.snapshotTrainingData as never, { spec, retrainRun })) as Snapshot;
  const input: SweepInput = { spec, snapshot, retrainRun, n: 1, trainingTaskQueue: `${stack.client.taskQueue}-nobody` };
  await stack.client.temporal.workflow.start('sweep', { taskQueue: stack.client.taskQueue, workflowId: sweepId(spec.name), args: [input] });
  return spec.name;
}

test('a sweep cancelled while it waits gives its place back', async () => {
  const blocker = await blockingSweep();
  await eventually(`${blocker}'s sweep holding the permit`, () => holding(blocker));
  const spec = testSpec();
  await registerSeeded(stack, spec);
  await eventually(`${spec.name}'s sweep waiting`, async () => ((await permitsState())?.queue.length === 1 ? true : undefined));
  await handle(sweepId(spec.name)).cancel();
  await eventually('the queue empty again', async () => ((await permitsState())?.queue.length === 0 ? true : undefined));
  const events = await eventsOf(sweepId(spec.name));
  assert.ok(events.some((e) => e.workflowExecutionCanceledEventAttributes));
  assert.equal(firstRung(events), undefined, 'the cancelled sweep never trained');
  await stack.client.stop(spec.name);
  await handle(sweepId(blocker)).terminate('test: done blocking');
  await eventually('no holder left', async () => ((await permitsState())?.holders.length === 0 ? true : undefined));
});

test('bad limits and bad messages are refused naming the field; --unlimited lifts the limit', async () => {
  await assert.rejects(
    stack.client.setTrainingLimit(0),
    (err: Error) => err instanceof TrainingLimitError && /limit: limit must be at least 1/.test(err.message),
  );
  for (const [arg, why] of [
    ['2.5', /limit: limit must be a whole number/],
    ['many', /limit: limit must be a positive integer/],
  ] as const) {
    const refused = await runCli(stack, 'training-limit', arg);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, why);
  }
  const both = await runCli(stack, 'training-limit', '2', '--unlimited');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /not both/);
  // Past the client's check, the workflow's validator refuses the update and changes nothing.
  const permits = handle(TRAINING_PERMITS_WORKFLOW_ID);
  await assert.rejects(permits.executeUpdate(setTrainingLimitUpdate, { args: [{ limit: -3 }] }), (err: Error) =>
    /limit: limit must be at least 1/.test(String((err.cause as Error | undefined)?.message)),
  );
  await permits.signal('requestPermit', { model: 'no sweep id' });
  await permits.signal('releasePermit', {});
  await permits.signal('permitsPlease');
  assert.deepEqual(await permitsState(), { limit: 1, holders: [], queue: [] });

  const lifted = await runCli(stack, 'training-limit', '--unlimited');
  assert.equal(lifted.code, 0, lifted.stderr);
  assert.match(lifted.stdout, /training limit: none \(unlimited\)/);
  const set = await runCli(stack, 'training-limit', '3');
  assert.match(set.stdout, /training limit: 3 sweeps at once/);
  assert.equal((await permits.describe()).status.name, 'RUNNING');
  await captureFixture(stack.client.temporal, TRAINING_PERMITS_WORKFLOW_ID);
});

test('the permits workflow carries its limit across continue-as-new', async () => {
  const permits = handle(TRAINING_PERMITS_WORKFLOW_ID);
  const { runId } = await permits.describe();
  // Releases of permits nobody holds: each one a history event, enough for Temporal to suggest
  // continue-as-new (the test server suggests it at 300 events).
  for (let i = 0; i < 300; i++) await permits.signal(releasePermitSignal, { sweepWorkflowId: `nobody/${i}` });
  await eventually('a new run', async () => ((await permits.describe()).runId !== runId ? true : undefined));
  assert.deepEqual(await permitsState(), { limit: 3, holders: [], queue: [] });
  // A limit set now reaches the continued run (start with USE_EXISTING answers with this run's id).
  assert.equal((await stack.client.setTrainingLimit(2)).limit, 2);
  assert.deepEqual(await permitsState(), { limit: 2, holders: [], queue: [] });
});
