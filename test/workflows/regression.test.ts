/**
 * A regression model through the whole loop on real components: miles per gallon from
 * vega-datasets' cars, a sweep judged by validation RMSE, the champion served over HTTP as
 * numbers, numeric feedback, a monitoring cycle measuring RMSE on it, a policy rule on RMSE firing a
 * retrain, and the challenger judged against the champion by holdout RMSE. The spec asks a
 * challenger for an RMSE of 0 (minImprovement 1), which no model reaches on real data: the
 * verdict is always `not-better`, so the test knows what must follow (nothing registered).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { toRecords } from '../../client/dataset.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import { ModelSpec, type ModelSpecInput } from '../../core/spec.ts';
import type { RetrainResult } from '../../workflows/retrain.ts';
import { deploymentOf, eventually, startStack, postToModel } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const FEATURES = ['Horsepower', 'Weight_in_lbs', 'Acceleration', 'Displacement'];

/** The 392 cars with all five values; every 5th is held back to be served. */
function cars() {
  const all = (
    JSON.parse(readFileSync(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url), 'utf8')) as Array<
      Record<string, number | null>
    >
  ).filter((c) => c.Miles_per_Gallon !== null && FEATURES.every((f) => c[f] !== null));
  return { train: all.filter((_, i) => i % 5 !== 4), served: all.filter((_, i) => i % 5 === 4) };
}

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

/**
 * A model of cars' miles per gallon from FEATURES, trained by a softmax (linear) sweep of
 * `maxTrials` trials of `maxEpochsPerTrial` epochs; `rest` is the rest of the spec.
 */
function mpgSpec(prefix: string, maxTrials: number, maxEpochsPerTrial: number, rest: Omit<ModelSpecInput, 'name' | 'features' | 'label'>) {
  return ModelSpec.parse({
    name: `${prefix}-${Date.now().toString(36)}`,
    features: FEATURES.map((name) => ({ name })),
    label: { name: 'Miles_per_Gallon', type: 'number' },
    training: {
      sweep: {
        families: { softmax: { learningRate: { type: 'float', low: 0.03, high: 0.1, log: true } } },
        sampler: 'random',
        seed: 2,
        budget: { maxTrials, maxEpochsPerTrial },
        earlyStopping: { kind: 'none' },
      },
    },
    ...rest,
  });
}

/** Registers the model on the cars' training rows and waits for champion v1; returns the cars to serve. */
async function championOnCars(spec: ModelSpec) {
  const { train, served } = cars();
  await stack.store.addRecords(spec.name, toRecords(train, FEATURES, 'Miles_per_Gallon', 'cars'));
  await stack.client.register(spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined), 300_000);
  return served;
}

// Each test has its own model on the shared stack and mostly waits for retrains and its canary:
// the tests wait side by side rather than one after another.
describe('regression models', { concurrency: true }, () => {
  test('a regression model: RMSE-judged sweep, numbers served, RMSE monitored, a rule on RMSE retrains', async () => {
    const spec = mpgSpec('mpg', 2, 27, {
      monitoring: { interval: '1s' },
      // Miles per gallon spread 7.6 around their mean; the first champion errs by about 4.
      policies: { rules: [{ name: 'error', when: { metric: 'rmse', above: 8, minLabels: 30 } }] },
      approval: { required: false },
      canary: { steps: [{ weight: 0.5, bake: '1s' }], minSamples: 1000 },
      // RMSE at most the champion's times (1 - 1): the first champion has none to beat, no challenger can.
      evaluation: { minImprovement: 1 },
    });
    assert.deepEqual(spec.training.sweep.objective, { metric: 'val_rmse', direction: 'minimize' });
    const served = await championOnCars(spec);

    // The sweep minimised validation RMSE; MLflow has it per epoch, and no accuracy.
    const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
    const trials = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'trial'");
    assert.equal(trials.length, 2);
    for (const t of trials) {
      assert.equal((await stack.mlflow.metricHistory(t.runId, 'val_rmse')).length, 27);
      assert.equal((await stack.mlflow.metricHistory(t.runId, 'val_accuracy')).length, 0);
    }

    // Served as numbers; on unseen cars the champion is far better than guessing the mean (7.6).
    const { predictions } = (await post(spec.name, 'predict', {
      rows: served.map((c) => Object.fromEntries(FEATURES.map((f) => [f, c[f]]))),
    })) as {
      predictions: Array<{ id: string; value: number; version: string; label?: string }>;
    };
    assert.ok(predictions.every((p) => typeof p.value === 'number' && p.version === '1' && p.label === undefined));
    const rmse = Math.sqrt(predictions.reduce((a, p, i) => a + (p.value - served[i].Miles_per_Gallon!) ** 2, 0) / predictions.length);
    console.log(`cars champion: RMSE ${rmse.toFixed(2)} mpg on ${predictions.length} unseen cars`);
    assert.ok(rmse < 5.5, `RMSE ${rmse}`);

    // The world changes: cars now do 15 mpg more than the model thinks. Numeric feedback says so.
    await post(spec.name, 'feedback', {
      feedback: predictions.slice(0, 40).map((p, i) => ({ predictionId: p.id, label: served[i].Miles_per_Gallon! + 15 })),
    });
    const status = await eventually('a retrain fired by the error rule', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'retrain #2 started') ? s : undefined;
    });
    const started = status.history.find((h) => h.what === 'retrain #2 started')!;
    assert.match(started.reasons[0], /^error: rmse 1\d\.\d+ > 8 on 40 labelled predictions/);

    // The monitoring cycle logged RMSE and MAE by step; the detectors saw errors beyond the training quantile.
    const [monitoring] = await stack.mlflow.searchRuns(
      [experimentId],
      "tags.`perennial.kind` = 'monitoring' and tags.`perennial.champion` = '1'",
    );
    const rmseHistory = await stack.mlflow.metricHistory(monitoring.runId, 'monitoring/rmse');
    assert.ok(rmseHistory.some((p) => p.value > 8));
    assert.ok((await stack.mlflow.metricHistory(monitoring.runId, 'monitoring/mae')).length >= 1);

    // The challenger is judged by holdout RMSE against the champion, and kept out.
    const result = (await stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2)).result()) as RetrainResult;
    assert.equal(result.outcome, 'not-better');
    const verdict = result.decisions.find((d) => d.what === 'challenger is not better than the champion: keeping the champion');
    const [, challengerRmse, championRmse] =
      verdict?.reasons[0].match(/^challenger RMSE (\d+\.\d{3}) vs champion v1 RMSE (\d+\.\d{3}) on \d+ recent holdout rows$/) ?? [];
    assert.ok(Number(challengerRmse) > 0 && Number(championRmse) > 0, JSON.stringify(result.decisions));
    assert.deepEqual((await stack.mlflow.getRegisteredModel(spec.name))?.latestVersions, ['1'], 'no version 2 registered');
    assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    await eventually('the lifecycle to keep v1', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'retrain #2: not-better') && s.championVersion === '1' ? true : undefined;
    });
    const [retrainRun] = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.trigger_rules` = 'error'");
    assert.ok((await stack.mlflow.metricHistory(retrainRun.runId, 'holdout_rmse_champion')).length === 1);
  });

  test(
    "a regression canary's sequential test on squared errors rolls back a canary that errs far more",
    { timeout: 10 * 60_000 },
    async () => {
      const spec = mpgSpec('mpg-canary', 1, 9, {
        approval: { required: false },
        // Any challenger goes to the canary: only the live test decides here.
        evaluation: { minImprovement: -1 },
        canary: { steps: [{ weight: 0.5, bake: '10m' }], checkEvery: '2s', minSamples: 5 },
      });
      const served = await championOnCars(spec);
      await stack.client.retrain(spec.name, { reason: 'try a challenger', requestedBy: 'ana' });
      await eventually(
        'canary v2',
        async () => ((await deploymentOf(stack, spec.name))?.canary?.version === '2' ? true : undefined),
        300_000,
      );

      // True values the champion misses by 0 or 1 mpg and the canary by 15 or 25 (squared errors
      // vary within each, so both have a variance): the canary's mean squared error is far higher.
      // Labels go on arriving, a few a second, until the live test decides and the retrain ends.
      const retrain = stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2));
      const sent = { champion: 0, canary: 0 };
      for (let i = 0; (await retrain.describe()).status.name === 'RUNNING'; i++) {
        assert.ok(sent.canary < 200, `no verdict after ${sent.canary} canary and ${sent.champion} champion labels`);
        const car = served[i % served.length];
        const [p] = (await post(spec.name, 'predict', { rows: [Object.fromEntries(FEATURES.map((f) => [f, car[f]]))] }))
          .predictions as Array<{ id: string; value: number; role: 'champion' | 'canary' }>;
        const error = p.role === 'canary' ? [15, 25][sent.canary % 2] : sent.champion % 2;
        await post(spec.name, 'feedback', { predictionId: p.id, label: p.value + error });
        sent[p.role] += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const result = (await retrain.result()) as RetrainResult;
      assert.equal(result.outcome, 'rolled-back');
      const verdict = result.decisions.find((d) => d.what === 'canary is worse than the champion: rolling back');
      const line = verdict?.reasons[0].match(
        /^mean squared error challenger minus champion ([\d.]+), 95% always-valid interval \[([\d.]+), ([\d.]+)\], p \S+, e-value \S+, (\d+) labelled challenger vs (\d+) champion at 50% traffic$/,
      );
      assert.ok(line, JSON.stringify(result.decisions));
      // Squared errors: the canary's 225, 625, 225, ..., the champion's 0, 1, 0, ... over the
      // labels the deciding look saw.
      const [n, m] = [Number(line[4]), Number(line[5])];
      const expected = (Math.ceil(n / 2) * 225 + Math.floor(n / 2) * 625) / n - Math.floor(m / 2) / m;
      assert.ok(n >= 5 && m >= 5 && Math.abs(Number(line[1]) - expected) < 0.01, `${line[0]} (expected ${expected})`);
      assert.ok(Number(line[2]) > 0, 'the whole interval says the canary errs more');
      assert.equal((await deploymentOf(stack, spec.name))?.canary, undefined);
      assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    },
  );
});
