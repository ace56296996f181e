/**
 * The lifecycle commands of the `perennial` CLI as a user runs them (child processes): reject a
 * waiting challenger, pause and resume monitoring, stop the lifecycle and its Schedule. Each is
 * checked by what the workflows did, not by what the command printed alone.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { lifecycleWorkflowId, retrainWorkflowId, scheduleId } from '../../core/messages.ts';
import { runCli } from '../helpers/cli.ts';
import { eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

// The CLI reviews as the person configured in its environment; --reviewer may only repeat it.
process.env.PERENNIAL_REVIEWER = 'bo';
const perennial = (...args: string[]) => runCli(stack, ...args);

test('reject, pause, resume and stop from the command line', { timeout: 10 * 60_000 }, async () => {
  const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'approve' }, schedule: { every: '1h' } });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  const retrain = retrainWorkflowId(spec.name, 1);
  await eventually(
    'the retrain waiting for approval',
    async () => ((await stack.client.retrainStatus(retrain)).stage === 'awaiting-approval' ? true : undefined),
    300_000,
  );

  const rejected = await perennial('reject', spec.name, '--reviewer', 'bo', '--comment', 'wait for more data');
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.equal(rejected.stdout.trim(), 'rejected by bo');
  // The update answers once the review is accepted; the retrain then records it and stops.
  const { decisions } = await eventually('the retrain rejected', async () => {
    const s = await stack.client.retrainStatus(retrain);
    return s.stage === 'rejected' ? s : undefined;
  });
  assert.ok(
    decisions.some((d) => d.what === 'rejected by bo' && d.reasons.includes('wait for more data')),
    JSON.stringify(decisions),
  );
  assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.review'], 'reject');
  assert.equal(await stack.mlflow.getVersionByAlias(spec.name, 'champion'), undefined);
  // Nothing waits for a review any more: a second one is refused with a message, exit 1.
  const late = await perennial('reject', spec.name, '--reviewer', 'bo');
  assert.equal(late.code, 1);
  assert.match(late.stderr, /^perennial: .*(no retrain running|not awaiting approval)/);

  const paused = await perennial('pause', spec.name);
  assert.equal(paused.code, 0, paused.stderr);
  assert.equal(paused.stdout.trim(), `${spec.name} paused`);
  await eventually('the lifecycle paused', async () => ((await stack.client.status(spec.name)).paused ? true : undefined));

  const resumed = await perennial('resume', spec.name);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.stdout.trim(), `${spec.name} resumed`);
  const status = await eventually('the lifecycle resumed', async () => {
    const s = await stack.client.status(spec.name);
    return s.paused ? undefined : s;
  });
  const said = status.history.map((h) => h.what);
  assert.ok(said.indexOf('resumed') > said.indexOf('paused: no monitoring or policy-triggered retrains until resumed'), said.join('\n'));

  const schedule = stack.client.temporal.schedule.getHandle(scheduleId(spec.name));
  assert.equal((await schedule.describe()).action.workflowType, 'scheduledRetrain');
  const stopped = await perennial('stop', spec.name);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout.trim(), `${spec.name} lifecycle stopped`);
  await assert.rejects(schedule.describe(), /not found/i);
  const lifecycle = stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name));
  await eventually('the lifecycle to end cancelled', async () =>
    (await lifecycle.describe()).status.name === 'CANCELLED' ? true : undefined,
  );
  // Stopped is stopped: a command to it now fails readably.
  const after = await perennial('pause', spec.name);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /^perennial: /);
});
