/**
 * The retrain's shadow phase on the real stack. The challenger is made to differ from the champion
 * on purpose: before the retrain, the last year of records comes back with every label moved to
 * the next class, so v2 learns another mapping (and beats v1 on that recent holdout). During the
 * shadow bake the test sends predictions, reads each shadow twin from the log, and chooses the
 * truth: the shadow's answer (it holds up) or the champion's (it does worse). The verdict's
 * numbers are then known in advance, and the monitoring cycles that ran during the bake must have
 * logged the same comparison to MLflow.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, testSpec, postToModel, deploymentOf } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const deployment = (model: string) => deploymentOf(stack, model);

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

const retrainStatus = (model: string, n: number) => stack.client.retrainStatus(retrainWorkflowId(model, n));

/** A spec with the shadow phase on; the canary that follows has too few labels to judge, so it lets v2 through. */
const shadowSpec = (bake = '15s') =>
  testSpec({
    shadow: { bake, minSamples: 5, tolerance: 0.05 },
    canary: { steps: [{ weight: 0.5, bake: '1s' }], minSamples: 1000 },
  });

/** Champion v1 on the seed, then a retrain on relabelled records whose challenger (v2) goes to shadow. */
async function challengerInShadow(spec: ModelSpec) {
  const { seed } = weatherData();
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined), 300_000);
  const classes = labelClasses(spec.label);
  const moved = seed
    .slice(-365)
    .map((r) => ({ ...r, [spec.label.name]: classes[(classes.indexOf(String(r[spec.label.name])) + 1) % classes.length] }));
  await seedRecords(stack.store, spec, moved);
  await stack.client.retrain(spec.name, { reason: 'try a relabelled challenger', requestedBy: 'ana' });
  const shadowing = await eventually(
    `shadow v2 of ${spec.name}`,
    async () => {
      const d = await deployment(spec.name);
      return d?.shadow?.version === '2' ? d : undefined;
    },
    300_000,
  );
  assert.deepEqual([shadowing.champion.version, shadowing.canary], ['1', undefined], 'the champion alone answers while v2 shadows');
}

/**
 * `rows` one-row predictions, each answered by the champion and copied to the shadow; each gets
 * the truth `truth` picks from the two answers. Returns how many times the two agreed.
 */
async function shadowedTraffic(spec: ModelSpec, rows: number, truth: (answers: { champion: string; shadow: string }) => string) {
  const inputs = weatherData().traffic.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  let agreed = 0;
  for (let i = 0; i < rows; i++) {
    const [p] = (await post(spec.name, 'predict', { rows: [inputs[i * 7]] })).predictions as Array<{
      id: string;
      label: string;
      version: string;
      role: string;
    }>;
    assert.deepEqual([p.version, p.role], ['1', 'champion'], 'a shadow never answers');
    // The copy is predicted after the response is sent: wait for its row in the log.
    const shadow = await eventually(`the shadow twin of ${p.id}`, async () => {
      for await (const row of stack.store.exportLog(spec.name, {})) if (row.shadowOf === p.id) return row.label;
      return undefined;
    });
    if (shadow === p.label) agreed += 1;
    await post(spec.name, 'feedback', { predictionId: p.id, label: truth({ champion: p.label, shadow }) });
  }
  const status = await retrainStatus(spec.name, 2);
  assert.equal(status.stage, 'shadow', 'the bake ended before the traffic was in: lengthen it');
  return agreed;
}

const ROWS = 8;
const share = (k: number) => (k / ROWS).toFixed(3);

// Each test has its own model on the shared stack and spends most of its time waiting for retrains
// and bakes: the tests wait side by side rather than one after another.
describe('shadow deployments', { concurrency: true }, () => {
  test(
    'a shadow that holds up on live labels goes on to the canary and is promoted; monitoring logs the comparison',
    { timeout: 10 * 60_000 },
    async () => {
      const spec = shadowSpec();
      await challengerInShadow(spec);
      // The truth is the shadow's answer: the shadow is always right, the champion when they agree.
      const agreed = await shadowedTraffic(spec, ROWS, (a) => a.shadow);

      await eventually(
        'retrain #2 promoted',
        async () => ((await retrainStatus(spec.name, 2)).stage === 'promoted' ? true : undefined),
        180_000,
      );
      const { decisions } = await retrainStatus(spec.name, 2);
      const verdict = decisions.find((d) => d.what === 'shadow holds up');
      assert.deepEqual(verdict?.reasons, [
        `agreement ${share(agreed)} on ${ROWS} shadowed rows; live accuracy shadow 1.000 vs champion ${share(agreed)} (${ROWS} labelled)`,
      ]);
      // Shadow, then canary, then promotion, in that order.
      const order = ['shadow holds up', 'canary inconclusive at the end of its bake', 'promoted version 2 to champion'].map((what) =>
        decisions.findIndex((d) => d.what.startsWith(what)),
      );
      assert.ok(order[0] >= 0 && order[0] < order[1] && order[1] < order[2], JSON.stringify(decisions.map((d) => d.what)));
      const promoted = await deployment(spec.name);
      assert.deepEqual([promoted?.champion.version, promoted?.canary, promoted?.shadow], ['2', undefined, undefined]);
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '2');

      // v1's monitoring cycles during the bake compared the shadow too: each pair and label in one cycle.
      const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
      const [run] = await stack.mlflow.searchRuns(
        [experimentId],
        "tags.`perennial.kind` = 'monitoring' and tags.`perennial.champion` = '1'",
      );
      const history = async (key: string) => (await stack.mlflow.metricHistory(run.runId, `monitoring/${key}`)).map((p) => p.value);
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      assert.equal(sum(await history('shadow_rows')), ROWS);
      assert.equal(sum(await history('shadow_labelled')), ROWS);
      assert.ok((await history('shadow_agreement')).length > 0, 'shadow_agreement logged');
      const shadowAccuracy = await history('shadow_accuracy');
      assert.ok(shadowAccuracy.length > 0 && shadowAccuracy.every((v) => v === 1), `shadow_accuracy ${shadowAccuracy}`);
      assert.equal((await history('champion_accuracy_on_shadowed')).length, shadowAccuracy.length);
    },
  );

  test('a shadow that does worse on live labels is stopped before any user sees it', { timeout: 10 * 60_000 }, async () => {
    const spec = shadowSpec();
    await challengerInShadow(spec);
    // The truth is the champion's answer: the champion is always right, the shadow when they agree.
    const agreed = await shadowedTraffic(spec, ROWS, (a) => a.champion);
    assert.ok(agreed < ROWS, 'the relabelled challenger agreed with the champion on every row: nothing to judge it by');

    await eventually(
      'retrain #2 rejected in shadow',
      async () => ((await retrainStatus(spec.name, 2)).stage === 'rejected-in-shadow' ? true : undefined),
      180_000,
    );
    const { decisions } = await retrainStatus(spec.name, 2);
    const verdict = decisions.find((d) => d.what.startsWith('shadow '));
    assert.deepEqual(
      [verdict?.what, ...(verdict?.reasons ?? [])],
      [
        "shadow is worse than the champion: its live accuracy is more than 0.05 below the champion's",
        `agreement ${share(agreed)} on ${ROWS} shadowed rows; live accuracy shadow ${share(agreed)} vs champion 1.000 (${ROWS} labelled)`,
      ],
    );
    assert.ok(!decisions.some((d) => d.what.includes('canary')), 'no canary after a rejected shadow');
    const restored = await deployment(spec.name);
    assert.deepEqual([restored?.champion.version, restored?.canary, restored?.shadow], ['1', undefined, undefined]);
    assert.equal((await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'], 'rejected-in-shadow');
    assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    const status = await eventually('the lifecycle to record the outcome', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'retrain #2: rejected-in-shadow') ? s : undefined;
    });
    assert.equal(status.championVersion, '1');
  });

  test('a retrain cancelled during the shadow phase puts the champion back alone', { timeout: 10 * 60_000 }, async () => {
    const spec = shadowSpec('10m');
    await challengerInShadow(spec);
    await stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2)).cancel();

    const restored = await eventually('the champion alone again', async () => {
      const d = await deployment(spec.name);
      return d && !d.shadow ? d : undefined;
    });
    assert.deepEqual([restored.champion.version, restored.canary], ['1', undefined]);
    await eventually('the lifecycle to record the failure', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'retrain #2: failed') ? s : undefined;
    });
    const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
    const [run] = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.trigger_rules` = 'manual'");
    assert.equal(run.tags['perennial.outcome'], 'failed');
  });
});
