/**
 * Canary rollouts and A/B tests on the real stack, driven by observed state: the test waits until the model
 * server serves the canary at a step's weight, then sends labelled traffic whose truth it
 * chooses, so the live verdict at the end of the bake is known in advance, numbers included.
 * Bakes are long enough that the few requests always land inside them; the test checks that
 * they did before it waits for the verdict.
 */
import assert from 'node:assert/strict';
import { before, describe, test, type TestContext } from 'node:test';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, stopWhenDone, testSpec, postToModel, deploymentOf } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const deployment = (model: string) => deploymentOf(stack, model);

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

const retrainStatus = (model: string, n: number) => stack.client.retrainStatus(retrainWorkflowId(model, n));
const isVerdict = (what: string) => what.startsWith('canary ') || what.startsWith('too few labelled canary');

/**
 * One-row predictions (the server routes per request) until `canary` of them went to the canary
 * and at least `champion` to the champion, each answered at once with a true label: the
 * prediction itself when that role is `right`, another class when not. Returns the counts.
 */
async function labelledTraffic(spec: ModelSpec, want: { canary: number; champion: number }, right: { canary: boolean; champion: boolean }) {
  const rows = weatherData().seed.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  const sent = { canary: 0, champion: 0 };
  for (let i = 0; sent.canary < want.canary || sent.champion < want.champion; i++) {
    assert.ok(i < 2000, `the canary got ${sent.canary} of 2000 requests`);
    const [p] = (await post(spec.name, 'predict', { rows: [rows[i % rows.length]] })).predictions as Array<{
      id: string;
      label: string;
      role: 'canary' | 'champion';
    }>;
    if (sent[p.role] >= want[p.role]) continue; // left unlabelled, so the live counts are exactly `want`
    const label = right[p.role] ? p.label : labelClasses(spec.label).find((c) => c !== p.label)!;
    await post(spec.name, 'feedback', { predictionId: p.id, label });
    sent[p.role] += 1;
  }
  return sent;
}

/**
 * Registers a seeded model (stopped when test `t` ends), waits for champion v1, and asks for a
 * retrain whose challenger (v2) goes to canary.
 */
async function challengerInCanary(t: TestContext, spec: ModelSpec) {
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  stopWhenDone(t, stack, spec.name);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined), 300_000);
  await stack.client.retrain(spec.name, { reason: 'try a challenger', requestedBy: 'ana' });
}

async function waitForCanaryWeight(model: string, weight: number) {
  return eventually(
    `canary v2 of ${model} at weight ${weight}`,
    async () => {
      const d = await deployment(model);
      return d?.canary?.version === '2' && d.canary.weight === weight ? d : undefined;
    },
    300_000,
  );
}

/** The traffic must have been judged by this step's comparison: the bake is still running. */
async function assertStillBaking(model: string, verdictsSoFar: number) {
  const status = await retrainStatus(model, 2);
  assert.equal(status.stage, 'canary', 'the bake ended before the traffic was in: lengthen it');
  assert.equal(
    status.decisions.filter((d) => isVerdict(d.what)).length,
    verdictsSoFar,
    'the bake ended before the traffic was in: lengthen it',
  );
}

// Each test has its own model on the shared stack and spends most of its time in bakes and
// sequential checks: the tests wait side by side rather than one after another.
describe('canary rollouts and A/B tests', { concurrency: true }, () => {
  test(
    'a two-step canary that holds up on live feedback is promoted by the tolerance rule, with the verdict of each step',
    { timeout: 10 * 60_000 },
    async (t) => {
      const spec = testSpec({
        canary: {
          steps: [
            { weight: 0.2, bake: '30s' },
            { weight: 0.6, bake: '30s' },
          ],
          minSamples: 5,
          tolerance: 0.05,
          verdict: 'tolerance',
        },
      });
      await challengerInCanary(t, spec);

      // Step 1 at 20%: the canary is right every time, the champion wrong every time.
      const first = await waitForCanaryWeight(spec.name, 0.2);
      assert.equal(first.champion.version, '1');
      const atTwenty = await labelledTraffic(spec, { canary: 5, champion: 3 }, { canary: true, champion: false });
      await assertStillBaking(spec.name, 0);

      // Step 2 at 60%, judged on its own traffic only (its comparison starts with the step).
      await waitForCanaryWeight(spec.name, 0.6);
      const atSixty = await labelledTraffic(spec, { canary: 7, champion: 2 }, { canary: true, champion: false });
      await assertStillBaking(spec.name, 1);

      await eventually(
        'retrain #2 promoted',
        async () => ((await retrainStatus(spec.name, 2)).stage === 'promoted' ? true : undefined),
        180_000,
      );
      const { decisions } = await retrainStatus(spec.name, 2);
      const verdicts = decisions.filter((d) => isVerdict(d.what));
      assert.deepEqual(
        verdicts.map((d) => [d.what, ...d.reasons]),
        [
          [
            'canary holds up',
            `live accuracy canary 1.000 (${atTwenty.canary} labelled) vs champion 0.000 (${atTwenty.champion} labelled) at 20% traffic`,
          ],
          [
            'canary holds up',
            `live accuracy canary 1.000 (${atSixty.canary} labelled) vs champion 0.000 (${atSixty.champion} labelled) at 60% traffic`,
          ],
        ],
      );
      assert.equal(decisions.at(-1)?.what, 'promoted version 2 to champion');

      // Promoted everywhere: model server alone on v2, MLflow alias and tags, the lifecycle's state.
      const promoted = await deployment(spec.name);
      assert.equal(promoted?.champion.version, '2');
      assert.equal(promoted?.canary, undefined);
      const [p] = (await post(spec.name, 'predict', { rows: [{ precipitation: 0, temp_max: 20, temp_min: 10, wind: 3 }] }))
        .predictions as Array<{ version: string; role: string }>;
      assert.deepEqual([p.version, p.role], ['2', 'champion']);
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '2');
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'], 'champion');
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.outcome'], 'retired');
      const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
      const [run] = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.trigger_rules` = 'manual'");
      assert.equal(run.tags['perennial.outcome'], 'promoted');
      assert.match(run.tags['mlflow.note.content'], /canary holds up\*\*\n {2}- live accuracy canary 1\.000 .* at 60% traffic/);
      await eventually('the lifecycle on champion v2', async () =>
        (await stack.client.status(spec.name)).championVersion === '2' ? true : undefined,
      );
    },
  );

  test(
    'a canary that does worse on live feedback is rolled back by the tolerance rule, with the numbers that condemned it',
    { timeout: 10 * 60_000 },
    async (t) => {
      const spec = testSpec({ canary: { steps: [{ weight: 0.5, bake: '30s' }], minSamples: 5, tolerance: 0.05, verdict: 'tolerance' } });
      await challengerInCanary(t, spec);
      await waitForCanaryWeight(spec.name, 0.5);

      // Live ground truth that agrees with the champion and contradicts the canary.
      const sent = await labelledTraffic(spec, { canary: 6, champion: 4 }, { canary: false, champion: true });
      await assertStillBaking(spec.name, 0);

      await eventually(
        'retrain #2 rolled back',
        async () => ((await retrainStatus(spec.name, 2)).stage === 'rolled-back' ? true : undefined),
        180_000,
      );
      const { decisions } = await retrainStatus(spec.name, 2);
      const verdict = decisions.find((d) => isVerdict(d.what));
      assert.deepEqual(
        [verdict?.what, ...(verdict?.reasons ?? [])],
        [
          'canary is worse than the champion: rolling back',
          `live accuracy canary 0.000 (${sent.canary} labelled) vs champion 1.000 (${sent.champion} labelled) at 50% traffic`,
        ],
      );
      const restored = await deployment(spec.name);
      assert.equal(restored?.champion.version, '1');
      assert.equal(restored?.canary, undefined, 'nothing half-deployed remains');
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'], 'rolled-back');
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
      const status = await eventually('the lifecycle to record the rollback', async () => {
        const s = await stack.client.status(spec.name);
        return s.history.some((h) => h.what === 'retrain #2: rolled-back') ? s : undefined;
      });
      assert.equal(status.championVersion, '1');
    },
  );

  /** The retrain run of challenger v2 and its live test as recorded: metrics on the run and the whole verdict as `<name>.json`. */
  async function recordedLiveTest(model: string, name: 'canary' | 'ab-test') {
    const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(model));
    const retrains = await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.kind\` = 'retrain'`);
    const run = retrains.find((r) => r.tags['perennial.challenger_version'] === '2');
    assert.ok(run, `the retrain run of v2 among ${retrains.length}`);
    return { run, artifact: JSON.parse(new TextDecoder().decode(await stack.mlflow.downloadArtifact(run.artifactUri, `${name}.json`))) };
  }

  test(
    'a sequential canary rolls back a worse challenger as soon as the evidence says so, long before its bake ends',
    { timeout: 10 * 60_000 },
    async (t) => {
      const spec = testSpec({ canary: { steps: [{ weight: 0.5, bake: '10m' }], checkEvery: '2s', minSamples: 5, tolerance: 0.05 } });
      assert.equal(spec.canary.verdict, 'sequential', 'the default');
      await challengerInCanary(t, spec);
      await waitForCanaryWeight(spec.name, 0.5);
      const sent = await labelledTraffic(spec, { canary: 12, champion: 12 }, { canary: false, champion: true });

      await eventually(
        'retrain #2 rolled back',
        async () => ((await retrainStatus(spec.name, 2)).stage === 'rolled-back' ? true : undefined),
        180_000,
      );
      const status = await retrainStatus(spec.name, 2);
      const verdict = status.decisions.find((d) => d.what === 'canary is worse than the champion: rolling back');
      assert.ok(verdict, JSON.stringify(status.decisions.map((d) => d.what)));
      const line = verdict.reasons[0].match(
        /^accuracy challenger minus champion (-[\d.]+), 95% always-valid interval \[(-[\d.]+), (-[\d.]+)\], p ([\d.e-]+), e-value \S+, (\d+) labelled challenger vs (\d+) champion at 50% traffic$/,
      );
      assert.ok(line, verdict.reasons[0]);
      const [effect, lower, upper, p, canaryN, championN] = line.slice(1).map(Number);
      assert.ok(effect < 0 && lower < effect && effect < upper && upper < 0, 'the whole interval is below 0');
      assert.ok(p < 0.05, `p ${p}`);
      assert.ok(canaryN <= sent.canary && championN <= sent.champion && canaryN >= 5 && championN >= 5);
      // Decided on the evidence, not by the clock: the 10-minute bake was far from over.
      const deployedAt = Date.parse(status.decisions.find((d) => d.what.startsWith('registered version 2'))!.at);
      assert.ok(Date.parse(verdict.at) - deployedAt < 5 * 60_000, `${verdict.at} vs ${deployedAt}`);
      assert.equal(status.liveTest?.decision, 'worse');
      assert.equal(status.liveTest?.samples.challenger, canaryN);

      const restored = await deployment(spec.name);
      assert.deepEqual([restored?.champion.version, restored?.canary], ['1', undefined]);
      assert.equal((await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'], 'rolled-back');
      const { run, artifact } = await recordedLiveTest(spec.name, 'canary');
      assert.equal(artifact.decision, 'worse');
      assert.equal(artifact.settings.alpha, 0.05);
      assert.ok(
        Math.abs(run.metrics['canary.effect'] - effect) < 5e-4 && run.metrics['canary.p_value'] < 0.05,
        JSON.stringify(run.metrics),
      );
    },
  );

  test(
    'an A/B test promotes a challenger that is better on live traffic, with effect, interval and p-value recorded',
    { timeout: 10 * 60_000 },
    async (t) => {
      const spec = testSpec({ deployment: { strategy: 'ab', ab: { split: 0.5, duration: '10m', checkEvery: '2s', minSamples: 5 } } });
      await challengerInCanary(t, spec);
      await waitForCanaryWeight(spec.name, 0.5);
      assert.equal((await retrainStatus(spec.name, 2)).stage, 'ab-test');
      await labelledTraffic(spec, { canary: 12, champion: 12 }, { canary: true, champion: false });

      await eventually(
        'retrain #2 promoted',
        async () => ((await retrainStatus(spec.name, 2)).stage === 'promoted' ? true : undefined),
        180_000,
      );
      const status = await retrainStatus(spec.name, 2);
      const verdict = status.decisions.find((d) => d.what === 'A/B test: the challenger is better than the champion');
      assert.ok(verdict, JSON.stringify(status.decisions.map((d) => d.what)));
      assert.match(
        verdict.reasons[0],
        /^accuracy challenger minus champion [\d.]+, 95% always-valid interval \[0\.\d+, [\d.]+\], p [\d.e-]+, .* split 50%$/,
      );
      assert.equal(status.liveTest?.test, 'ab-test');
      assert.ok(status.liveTest!.lower! > 0, 'superiority: the whole interval above 0');
      const promoted = await deployment(spec.name);
      assert.deepEqual([promoted?.champion.version, promoted?.canary], ['2', undefined]);
      const { run, artifact } = await recordedLiveTest(spec.name, 'ab-test');
      assert.equal(artifact.decision, 'not-worse');
      assert.ok(run.metrics['ab.ci_lower'] > 0 && run.metrics['ab.p_value'] < 0.05, JSON.stringify(run.metrics));
    },
  );

  test('strategy direct promotes an approved challenger without any live test', { timeout: 10 * 60_000 }, async (t) => {
    const spec = testSpec({ deployment: { strategy: 'direct' } });
    await challengerInCanary(t, spec);
    await eventually(
      'retrain #2 promoted',
      async () => ((await retrainStatus(spec.name, 2)).stage === 'promoted' ? true : undefined),
      300_000,
    );
    const { decisions, liveTest } = await retrainStatus(spec.name, 2);
    const what = decisions.map((d) => d.what);
    assert.ok(what.includes('direct deployment: no live test (deployment.strategy direct)'), JSON.stringify(what));
    assert.ok(!what.some((w) => /canary|A\/B/.test(w)), 'no canary, no A/B test');
    assert.equal(liveTest, undefined);
    const promoted = await deployment(spec.name);
    assert.deepEqual([promoted?.champion.version, promoted?.canary], ['2', undefined]);
  });
});
