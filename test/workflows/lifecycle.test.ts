/**
 * The lifecycle and retrain workflows on a real Temporal dev server, with the real activities:
 * MLflow server, model server over HTTP, SQLite log and tfjs training.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { request } from 'undici';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { lifecycleWorkflowId, retrainWorkflowId, scheduleId } from '../../core/messages.ts';
import { weatherData } from '../../stack/demo.ts';
import { captureFixture } from '../replay/capture-fixture.ts';
import { eventually, registerSeeded, seedRecords, startStack, stopWhenDone, testSpec, deploymentOf } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
before(async () => {
  stack = await startStack();
  hook = await startWebhookReceiver();
});

/** Alerts of one model received so far, by their fallback text. */
const alertsOf = (model: string) => hook.received.map((m) => m.text).filter((t) => t.includes(model));

const deployment = (model: string) => deploymentOf(stack, model);

const stageOf = async (model: string, n: number) => (await stack.client.retrainStatus(retrainWorkflowId(model, n))).stage;

async function waitForStage(model: string, n: number, stage: string) {
  await eventually(`retrain #${n} of ${model} at stage ${stage}`, async () => ((await stageOf(model, n)) === stage ? true : undefined));
}

async function waitForChampion(model: string, version: string) {
  return eventually(`champion v${version} of ${model}`, async () => {
    const status = await stack.client.status(model);
    return status.championVersion === version ? status : undefined;
  });
}

// Each group of tests has its own models on the shared stack and waits on timers and retrains most of
// the time: the groups run side by side; the tests within a group still run in order (a group's
// concurrency: false, or it would inherit this one's).
describe('the lifecycle', { concurrency: true }, () => {
  describe('approval gate', { concurrency: false }, () => {
    test('an approval by update promotes the first champion everywhere', async (t) => {
      const spec = testSpec({
        approval: { required: true, timeout: '10m', onTimeout: 'reject' },
        alerts: { webhooks: [{ url: hook.url, kinds: ['approval-needed', 'promotion'] }] },
      });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForStage(spec.name, 1, 'awaiting-approval');
      await eventually('an approval-needed alert', async () =>
        alertsOf(spec.name).some((t) => t.includes(`${spec.name} v1 awaits approval`)) ? true : undefined,
      );
      await assert.rejects(stack.client.review(spec.name, 'approve', { reviewer: ' ', comment: '' }), /reviewer is required/);

      const answer = await stack.client.review(spec.name, 'approve', { reviewer: 'ana', comment: 'looks good' });
      assert.equal(answer, 'approved by ana');
      const status = await waitForChampion(spec.name, '1');
      assert.match(status.history.map((h) => h.what).join('\n'), /retrain #1: promoted/);
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.reviewer'], 'ana');
      assert.equal((await deployment(spec.name))?.champion.version, '1');
      await eventually('a promotion alert', async () =>
        alertsOf(spec.name).some((t) => t.includes(`${spec.name} v1 is the new champion`)) ? true : undefined,
      );
      // A second review of a finished gate is refused rather than silently applied.
      await assert.rejects(stack.client.review(spec.name, 'reject', { reviewer: 'bo', comment: '' }), /no retrain running/);
    });

    test('a rejection by plain signal to the lifecycle stops the retrain and deploys nothing', async (t) => {
      const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'approve' } });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForStage(spec.name, 1, 'awaiting-approval');
      // Malformed input is recorded and ignored, the gate keeps waiting.
      await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name)).signal('reject', { comment: 'no reviewer' });
      await stack.client.reviewBySignal(spec.name, 'reject', { reviewer: 'bo', comment: 'not on a Friday' });
      await waitForStage(spec.name, 1, 'rejected');
      // The stage says rejected before the retrain has cleaned up (the challenger alias): wait for its end.
      await stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 1)).result();
      const retrain = await stack.client.retrainStatus(retrainWorkflowId(spec.name, 1));
      // The lifecycle refuses it before forwarding, naming the missing field.
      const refusal = (await stack.client.status(spec.name)).history.find((h) => h.what === 'ignored reject signal with invalid input');
      assert.match(refusal?.reasons.join('\n') ?? '', /^reviewer: /);
      assert.ok(retrain.decisions.some((d) => d.what === 'rejected by bo' && d.reasons.includes('not on a Friday')));
      assert.equal(await stack.mlflow.getVersionByAlias(spec.name, 'challenger'), undefined, 'a rejected challenger loses its alias');
      assert.equal(await stack.mlflow.getVersionByAlias(spec.name, 'champion'), undefined);
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.review'], 'reject');
      assert.equal(await deployment(spec.name), undefined);
    });

    test('without a review the configured default applies when the timeout expires', async (t) => {
      const spec = testSpec({ approval: { required: true, timeout: '2s', onTimeout: 'approve' } });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      const status = await waitForChampion(spec.name, '1');
      const retrain = await stack.client.retrainStatus(retrainWorkflowId(spec.name, 1));
      assert.ok(
        retrain.decisions.some((d) => d.what === 'approved by timeout'),
        JSON.stringify(retrain.decisions),
      );
      assert.equal(status.championVersion, '1');
    });
  });

  describe('triggers', { concurrency: false }, () => {
    test('input drift in production traffic triggers a retrain and records why', async (t) => {
      const spec = testSpec({
        policies: { drift: { pValue: 0.001, minFeatureShare: 0.5, minRows: 300 } },
        monitoring: { interval: '1s', windowRows: 365 },
      });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForChampion(spec.name, '1');
      // A year of New York's climate, sent through the model server like real traffic.
      const newYork = weatherData()
        .traffic.filter((r) => r.location === 'New York')
        .slice(0, 365);
      const rows = newYork.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
      const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows }),
      });
      assert.equal(res.statusCode, 200, await res.body.text());

      const status = await eventually('a drift-triggered retrain', async () => {
        const s = await stack.client.status(spec.name);
        return s.retrainCount >= 2 ? s : undefined;
      });
      const started = status.history.find((h) => h.what === 'retrain #2 started');
      assert.match(started?.reasons[0] ?? '', /^drift: input drift on [234]\/4 features over \d+ predictions: .*wind \(ks /);
      // The lifecycle records the retrain as started when it asks for the child; the child itself
      // starts a moment later, so describing it can precede it.
      const retrain = stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2));
      const described = await eventually('the retrain workflow', () => retrain.describe().catch(() => undefined));
      assert.deepEqual(described.searchAttributes.TriggerReason, ['drift']);
      const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
      await eventually(
        'the retrain run in MLflow, tagged with its trigger',
        async () => (await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.trigger_rules\` = 'drift'`))[0],
      );
    });

    test('triggers that arrive during a retrain coalesce into one follow-up', async (t) => {
      const spec = testSpec({ approval: { required: true, timeout: '10m', onTimeout: 'reject' } });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForStage(spec.name, 1, 'awaiting-approval');
      await stack.client.retrain(spec.name, { reason: 'new labels from the field team', requestedBy: 'ana' });
      await stack.client.retrain(spec.name, { reason: 'quarterly refresh', requestedBy: 'bo' });
      const waiting = await stack.client.status(spec.name);
      assert.equal(waiting.retrainCount, 1);
      assert.match(waiting.pendingTrigger ?? '', /new labels from the field team.*quarterly refresh/);

      await stack.client.review(spec.name, 'approve', { reviewer: 'ana', comment: '' });
      await waitForStage(spec.name, 2, 'awaiting-approval');
      const after = await stack.client.status(spec.name);
      assert.equal(after.retrainCount, 2, 'one follow-up, not two');
      assert.equal(after.pendingTrigger, undefined);
      assert.match((await stack.client.retrainStatus(retrainWorkflowId(spec.name, 2))).trigger, /field team.*quarterly/);
      await stack.client.review(spec.name, 'reject', { reviewer: 'ana', comment: 'enough for today' });
    });

    test('a pending drift trigger is dropped when a new champion is promoted', async (t) => {
      const spec = testSpec({
        approval: { required: true, timeout: '10m', onTimeout: 'reject' },
        policies: { drift: { pValue: 0.001, minFeatureShare: 0.5, minRows: 300 } },
        monitoring: { interval: '1s', windowRows: 365 },
      });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForStage(spec.name, 1, 'awaiting-approval');
      await stack.client.review(spec.name, 'approve', { reviewer: 'ana', comment: '' });
      await waitForChampion(spec.name, '1');
      await stack.client.retrain(spec.name, { reason: 'refresh', requestedBy: 'ana' });
      await waitForStage(spec.name, 2, 'awaiting-approval');
      const newYork = weatherData()
        .traffic.filter((r) => r.location === 'New York')
        .slice(0, 365);
      const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: newYork.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]]))) }),
      });
      await res.body.dump();
      await eventually('a drift trigger waiting behind retrain #2', async () =>
        (await stack.client.status(spec.name)).pendingTrigger?.includes('input drift') ? true : undefined,
      );

      await stack.client.review(spec.name, 'approve', { reviewer: 'ana', comment: '' });
      const status = await waitForChampion(spec.name, '2');
      // Right after the promotion, the old champion's evidence is dropped instead of starting retrain #3.
      const promoted = status.history.findIndex((h) => h.what === 'retrain #2: promoted');
      assert.equal(
        status.history[promoted + 1]?.what,
        'pending policy trigger dropped: v2 is the new champion and monitoring judges it afresh',
      );
    });

    test('a Temporal Schedule asks for periodic retrains; stop removes it', async () => {
      const spec = testSpec({ schedule: { every: '3s' } });
      await registerSeeded(stack, spec);
      const schedule = stack.client.temporal.schedule.getHandle(scheduleId(spec.name));
      assert.equal((await schedule.describe()).action.workflowType, 'scheduledRetrain');
      const started = await eventually('a scheduled retrain', async () => {
        const s = await stack.client.status(spec.name);
        return s.history.find((h) => h.what === 'retrain #2 started');
      });
      assert.match(started.reasons[0], /^schedule: scheduled periodic retraining/);

      await stack.client.stop(spec.name);
      await assert.rejects(schedule.describe(), /not found/i);
      const lifecycle = stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name));
      await eventually('the lifecycle to end cancelled', async () =>
        (await lifecycle.describe()).status.name === 'CANCELLED' ? true : undefined,
      );
    });

    test('an invalid retrain signal is recorded and ignored', async (t) => {
      const spec = testSpec();
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForChampion(spec.name, '1');
      await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name)).signal('retrain', { reason: '' });
      const status = await eventually('the ignored signal in history', async () => {
        const s = await stack.client.status(spec.name);
        return s.history.some((h) => h.what === 'ignored retrain signal with invalid input') ? s : undefined;
      });
      assert.equal(status.retrainCount, 1);
    });
  });

  describe('data validation', { concurrency: false }, () => {
    test('invalid training data stops the retrain with a readable report and trains nothing', async (t) => {
      const spec = testSpec();
      const rows = weatherData().seed.map((r, i) => (i % 5 === 0 ? { ...r, wind: -3 } : r));
      await seedRecords(stack.store, spec, rows);
      await stack.client.register(spec);
      stopWhenDone(t, stack, spec.name);
      await waitForStage(spec.name, 1, 'invalid-data');
      const retrain = await stack.client.retrainStatus(retrainWorkflowId(spec.name, 1));
      const failure = retrain.decisions.find((d) => d.what === 'data validation failed: no training');
      assert.ok(
        failure?.reasons.some((r) => r.includes('wind')),
        JSON.stringify(retrain.decisions),
      );
      assert.equal(await stack.mlflow.getRegisteredModel(spec.name), undefined, 'no model version was registered');
    });
  });

  describe('rollback and continue-as-new', { concurrency: false }, () => {
    test('rollback returns the previous champion to the model server and the registry', async (t) => {
      const spec = testSpec({ alerts: { webhooks: [{ url: hook.url, kinds: ['rollback'] }] } });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForChampion(spec.name, '1');
      await stack.client.retrain(spec.name, { reason: 'manual refresh', requestedBy: 'ana' });
      const promoted = await eventually('retrain #2 to finish', async () => {
        const s = await stack.client.status(spec.name);
        return s.history.find((h) => h.what.startsWith('retrain #2:'));
      });
      // Same data, same seed: the challenger ties the champion, which is enough (minImprovement 0).
      assert.equal(promoted.what, 'retrain #2: promoted');
      await waitForChampion(spec.name, '2');
      assert.equal((await deployment(spec.name))?.champion.version, '2');

      await stack.client.rollback(spec.name, { reason: 'complaints from users', requestedBy: 'ana' });
      const status = await waitForChampion(spec.name, '1');
      assert.ok(status.history.some((h) => h.what === 'rolled back from v2 to v1'));
      assert.equal((await deployment(spec.name))?.champion.version, '1');
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'], 'rolled-back');
      await eventually('a rollback alert', async () =>
        alertsOf(spec.name).some((t) => t.includes(`${spec.name} rolled back from v2 to v1`)) ? true : undefined,
      );
      assert.equal(alertsOf(spec.name).length, 1, 'only the kinds the webhook asked for');
    });

    test("pause stops monitoring but not a person's retrain; resume starts it again", async (t) => {
      const spec = testSpec();
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForChampion(spec.name, '1');
      await stack.client.pause(spec.name);
      const paused = await eventually('paused', async () => {
        const s = await stack.client.status(spec.name);
        // A cycle already running when the pause arrived finishes; none may start after it.
        return s.paused && !s.monitoringNow ? s : undefined;
      });
      const lastCycle = (paused.lastSummary as { at: string } | undefined)?.at;
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(
        ((await stack.client.status(spec.name)).lastSummary as { at: string } | undefined)?.at,
        lastCycle,
        'no monitoring while paused',
      );
      await stack.client.retrain(spec.name, { reason: 'needed anyway', requestedBy: 'ana' });
      await eventually('the manual retrain', async () => ((await stack.client.status(spec.name)).retrainCount === 2 ? true : undefined));

      await stack.client.resume(spec.name);
      await eventually('monitoring again', async () => {
        const s = await stack.client.status(spec.name);
        return !s.paused && (s.lastSummary as { at: string } | undefined)?.at !== lastCycle ? true : undefined;
      });
      await captureFixture(stack.client.temporal, lifecycleWorkflowId(spec.name));
    });

    test('the lifecycle continues as new when Temporal suggests it and keeps its state', async (t) => {
      const spec = testSpec({ monitoring: { interval: '100ms', windowRows: 50 } });
      await registerSeeded(stack, spec);
      stopWhenDone(t, stack, spec.name);
      await waitForChampion(spec.name, '1');
      const handle = stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name));
      const first = (await handle.describe()).runId;
      await eventually('a new run of the lifecycle', async () => ((await handle.describe()).runId !== first ? true : undefined), 180_000);
      const status = await stack.client.status(spec.name);
      assert.equal(status.championVersion, '1');
      assert.equal(status.retrainCount, 1);
      assert.ok(status.history.some((h) => h.what === 'retrain #1: promoted'));
    });
  });
});
