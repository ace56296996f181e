/**
 * What people send the lifecycle cannot break it: a rollback to a version that does not exist
 * (by signal, by update, by the CLI) and reviews from people not allowed to decide, on a real
 * Temporal dev server with the real MLflow server, model server and worker.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { request } from 'undici';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { lifecycleWorkflowId, retrainWorkflowId, sweepStatusQuery } from '../../core/messages.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { runCli } from '../helpers/cli.ts';
import { eventually, seedRecords, startStack, stopWhenDone, testSpec } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
before(async () => {
  stack = await startStack();
  hook = await startWebhookReceiver();
});

const perennial = (...args: string[]) => runCli(stack, ...args);

async function servedChampion(model: string) {
  const res = await request(`${stack.servingUrl}/v1/models/${model}/deployment`);
  return res.statusCode === 200
    ? ((await res.body.json()) as { champion: { version: string } }).champion.version
    : (await res.body.dump(), undefined);
}

const historyEntry = (model: string, what: RegExp) =>
  eventually(`"${what.source}" in the history of ${model}`, async () =>
    (await stack.client.status(model)).history.find((h) => what.test(h.what)),
  );

async function withChampions(spec: ModelSpec, count: number) {
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  for (let n = 1; n <= count; n++) {
    if (n > 1) await stack.client.retrain(spec.name, { reason: 'a second champion to roll back to', requestedBy: 'test' });
    await eventually(
      `champion v${n}`,
      async () => ((await stack.client.status(spec.name)).championVersion === String(n) ? true : undefined),
      240_000,
    );
  }
}

// Each group of tests has its own models on the shared stack and mostly waits (the retry policy's
// one-minute delay above all): the groups run side by side; the tests within a group still run in order.
describe('faults', { concurrency: true }, () => {
  describe('rollback', () => {
    test('a rollback to an unknown version is refused and recorded, the lifecycle carries on, and a good one still works', async (t) => {
      const spec = testSpec({ alerts: { webhooks: [{ url: hook.url, kinds: ['rollback'] }] } });
      await withChampions(spec, 2);
      stopWhenDone(t, stack, spec.name);
      const lifecycle = stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name));

      // The plain-JSON signal of the Temporal UI, as in the report: refused, recorded, alerted.
      await lifecycle.signal('rollback', { reason: 'x', toVersion: '99' });
      const refused = await historyEntry(spec.name, /^rollback refused/);
      assert.equal(refused.what, `rollback refused: toVersion: 99 is not a registered version of ${spec.name}`);
      await eventually('a rollback alert', async () =>
        hook.received.some((m) => m.text.includes(`rollback of ${spec.name} refused`)) ? true : undefined,
      );
      assert.equal((await lifecycle.describe()).status.name, 'RUNNING');

      // The CLI's update: a clear error and exit 1, before anything changes.
      const badFormat = await perennial('rollback', spec.name, '--to', 'abc', '--reason', 'x');
      assert.equal(badFormat.code, 1);
      assert.match(badFormat.stderr, /toVersion: toVersion must be a registered version number/);
      const unknown = await perennial('rollback', spec.name, '--to', '99', '--reason', 'x');
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        new RegExp(`rollback of ${spec.name} refused: toVersion: 99 is not a registered version of ${spec.name}`),
      );
      const current = await perennial('rollback', spec.name, '--to', '2', '--reason', 'x');
      assert.equal(current.code, 1);
      assert.match(current.stderr, /toVersion: v2 is already the champion/);

      let status = await stack.client.status(spec.name);
      assert.equal(status.championVersion, '2');
      assert.equal(await servedChampion(spec.name), '2');
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '2');
      assert.equal((await lifecycle.describe()).status.name, 'RUNNING');

      // A rollback to a real version still goes through, and the CLI waits for it.
      const good = await perennial('rollback', spec.name, '--to', '1', '--reason', 'complaints', '--by', 'ana');
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /rolled back from v2 to v1/);
      status = await stack.client.status(spec.name);
      assert.equal(status.championVersion, '1');
      assert.equal(await servedChampion(spec.name), '1');
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    });
  });

  describe('reviewers', () => {
    test('only listed reviewers and group members decide; refusals are recorded; a rejected challenger loses its alias', async (t) => {
      const spec = testSpec({
        approval: { required: true, timeout: '10m', onTimeout: 'approve', reviewers: ['ana', 'group:leads'], groups: { leads: ['bo'] } },
      });
      await seedRecords(stack.store, spec);
      await stack.client.register(spec);
      stopWhenDone(t, stack, spec.name);
      const retrainId = retrainWorkflowId(spec.name, 1);
      await eventually('the retrain waiting for approval', async () =>
        (await stack.client.retrainStatus(retrainId)).stage === 'awaiting-approval' ? true : undefined,
      );
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'challenger'))?.version, '1');

      await assert.rejects(
        stack.client.review(spec.name, 'approve', { reviewer: 'mallory', comment: '' }),
        /reviewer: mallory may not review/,
      );
      await stack.client.reviewBySignal(spec.name, 'approve', { reviewer: 'mallory', comment: 'trust me' });
      await historyEntry(spec.name, /^refused approve from mallory: not an allowed reviewer$/);
      await stack.client.temporal.workflow.getHandle(retrainId).signal('approve', { reviewer: 'eve', comment: '' });
      await eventually('the refusal in the retrain', async () =>
        (await stack.client.retrainStatus(retrainId)).decisions.some((d) => d.what === 'refused approve from eve: not an allowed reviewer')
          ? true
          : undefined,
      );
      assert.equal((await stack.client.retrainStatus(retrainId)).stage, 'awaiting-approval');

      // bo is a member of group:leads.
      assert.equal(await stack.client.review(spec.name, 'reject', { reviewer: 'bo', comment: 'not yet' }), 'rejected by bo');
      await eventually('the rejection', async () =>
        (await stack.client.retrainStatus(retrainId)).stage === 'rejected' ? true : undefined,
      );
      await eventually('the challenger alias removed', async () =>
        (await stack.mlflow.getVersionByAlias(spec.name, 'challenger')) === undefined ? true : undefined,
      );
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.reviewer'], 'bo');
    });
  });

  describe('a retrain that does not finish', () => {
    test('a retrain cancelled mid-sweep leaves no MLflow run RUNNING, records its root cause and is not retried', async (t) => {
      const spec = testSpec({
        // Rungs of 3 and 9 epochs: the sweep is still training when the first rung is done.
        training: { ...testSpec().training, sweep: { ...testSpec().training.sweep, budget: { maxTrials: 3, maxEpochsPerTrial: 9 } } },
      });
      await seedRecords(stack.store, spec);
      await stack.client.register(spec);
      stopWhenDone(t, stack, spec.name);
      const retrainId = retrainWorkflowId(spec.name, 1);
      const sweep = stack.client.temporal.workflow.getHandle(`${retrainId}/sweep`);
      await eventually('a first rung done', async () => ((await sweep.query(sweepStatusQuery)).rungsDone >= 1 ? true : undefined), 240_000);
      await stack.client.temporal.workflow.getHandle(retrainId).cancel();

      const failed = await historyEntry(spec.name, /^retrain #1: failed$/);
      assert.ok(
        failed.reasons.some((r) => r.startsWith('root cause: ') && !r.includes('Child Workflow execution failed')),
        JSON.stringify(failed),
      );
      await historyEntry(spec.name, /^retrain #1 was cancelled: not retried$/);

      const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
      const runs = await eventually('every run of the retrain ended', async () => {
        const all = (await stack.mlflow.searchRuns([experimentId])).filter((r) =>
          ['retrain', 'sweep', 'trial'].includes(r.tags['perennial.kind']),
        );
        return all.length > 0 && all.every((r) => r.status !== 'RUNNING') ? all : undefined;
      });
      assert.equal(runs.find((r) => r.tags['perennial.kind'] === 'retrain')?.status, 'FAILED');
      assert.ok(
        runs.some((r) => r.tags['perennial.kind'] === 'trial' && r.status === 'KILLED'),
        runs.map((r) => `${r.runName} ${r.status}`).join(', '),
      );
      const status = await stack.client.status(spec.name);
      assert.equal(status.retrainCount, 1);
      assert.equal(status.retryAt, undefined);
    });
  });

  describe('the retry policy of a failed retrain', () => {
    test('a retrain whose sweep dies fails with its root cause, ends its runs, and is retried a minute later', async (t) => {
      const spec = testSpec({
        // Rungs of 3 and 9 epochs: the sweep is still training when the first rung is done.
        training: { ...testSpec().training, sweep: { ...testSpec().training.sweep, budget: { maxTrials: 3, maxEpochsPerTrial: 9 } } },
      });
      await seedRecords(stack.store, spec);
      await stack.client.register(spec);
      stopWhenDone(t, stack, spec.name);
      const sweep = stack.client.temporal.workflow.getHandle(`${retrainWorkflowId(spec.name, 1)}/sweep`);
      await eventually('a first rung done', async () => ((await sweep.query(sweepStatusQuery)).rungsDone >= 1 ? true : undefined), 240_000);
      await sweep.terminate('chaos: the sweep was killed');

      const failed = await historyEntry(spec.name, /^retrain #1: failed$/);
      // The innermost failure (the sweep's termination), not "Child Workflow execution failed".
      assert.ok(
        failed.reasons.some((r) => /^root cause: .*(terminated|killed)/i.test(r)),
        JSON.stringify(failed),
      );
      await historyEntry(spec.name, /^retrain will be retried in 1m \(attempt 2 of 3\)$/);
      assert.ok((await stack.client.status(spec.name)).retryAt);

      const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
      const retrainRun = await eventually('retrain #1 run ended', async () =>
        (await stack.mlflow.searchRuns([experimentId])).find((r) => r.runName === 'retrain-1' && r.status !== 'RUNNING'),
      );
      assert.equal(retrainRun.status, 'FAILED');

      // The same trigger runs again as retrain #2, which finishes the job.
      await eventually(
        'champion v1 from the retried retrain',
        async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined),
        300_000,
      );
      const status = await stack.client.status(spec.name);
      assert.equal(status.retrainCount, 2);
      assert.equal(status.retryAt, undefined);
      assert.ok(status.history.some((h) => h.what === 'retrain #2: promoted'));
      const open = (await stack.mlflow.searchRuns([experimentId])).filter(
        (r) => ['retrain', 'sweep', 'trial'].includes(r.tags['perennial.kind']) && r.status === 'RUNNING',
      );
      assert.deepEqual(
        open.map((r) => r.runName),
        [],
      );
    });
  });
});
