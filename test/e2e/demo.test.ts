/**
 * The demo, end to end, on every real piece: Temporal dev server, MLflow server, model server
 * over HTTP, worker, SQLite. Seattle traffic, then New York; the lifecycle must notice the
 * drift, retrain, pass the approval gate and the canary, and promote.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { readSpecFile } from '../../client/spec-file.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { runDemoTraffic, weatherData } from '../../stack/demo.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { seedRecords, startStack } from '../helpers/stack.ts';

test('the weather demo retrains on drift and promotes the challenger', { timeout: 20 * 60_000 }, async () => {
  const stack = await startStack();
  const demo = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  // The demo's own spec with a smaller sweep (4 trials to 9 epochs instead of 6 to 27): the
  // lifecycle's path is the same, and test/e2e/start.test.ts runs the demo's full sweep.
  const spec = ModelSpec.parse({
    ...demo,
    name: 'weather-e2e',
    training: {
      ...demo.training,
      sweep: { ...demo.training.sweep, budget: { ...demo.training.sweep.budget, maxTrials: 4, maxEpochsPerTrial: 9 } },
    },
  });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);

  const result = await runDemoTraffic({
    client: stack.client,
    spec,
    servingUrl: stack.servingUrl,
    traffic: weatherData().traffic,
    autoApprove: true,
    rate: 40,
    log: () => undefined,
  });
  assert.ok(Number(result.championVersion) >= 2);
  assert.match(result.trigger, /drift/);

  // The decisions of the retrain that drift started, each with the numbers behind it.
  const { history } = await stack.client.status(spec.name);
  const promotedBy = history.find((h) => /^retrain #\d+: promoted$/.test(h.what) && h.reasons[0]?.includes('drift'))!;
  const n = Number(promotedBy.what.match(/#(\d+)/)![1]);
  const { decisions } = await stack.client.retrainStatus(retrainWorkflowId(spec.name, n));
  const decided = (what: string) => decisions.find((d) => d.what === what);
  const holdout = decided('challenger beats the champion')?.reasons[0].match(
    /^challenger (\d\.\d{3}) vs champion v(\d+) (\d\.\d{3}) on (\d+) recent holdout rows$/,
  );
  assert.ok(holdout, JSON.stringify(decisions));
  assert.ok(Number(holdout[1]) >= Number(holdout[3]), `the challenger reached the champion's holdout accuracy: ${holdout[0]}`);
  assert.ok(Number(holdout[2]) < Number(result.championVersion) && Number(holdout[4]) > 0);
  assert.ok(decided('approved by demo-auto-approver'), 'approved by the demo');
  // The canary's live verdict (a sequential test): labelled canary traffic at 30%, and not worse than the champion.
  const verdict = decisions.find((d) => /^canary (is not worse than the champion|inconclusive at the end of its bake)/.test(d.what));
  const canary = verdict?.reasons[0].match(
    /^accuracy challenger minus champion (-?[\d.]+), 95% always-valid interval \[(\S+), (\S+)\], p [\d.e-]+, e-value \S+, (\d+) labelled challenger vs (\d+) champion at 30% traffic$/,
  );
  assert.ok(canary, `a live canary verdict: ${JSON.stringify(decisions)}`);
  const [canaryLabelled, championLabelled] = canary.slice(4).map(Number);
  assert.ok(canaryLabelled > 0, `${canaryLabelled} labelled canary predictions`);
  assert.ok(canaryLabelled < championLabelled, '30% of the traffic went to the canary, 70% to the champion');
  assert.equal(decisions.at(-1)?.what, `promoted version ${result.championVersion} to champion`);
  const promotedVersion = await stack.mlflow.getModelVersion(spec.name, result.championVersion);
  assert.deepEqual(
    [promotedVersion.tags['perennial.review'], promotedVersion.tags['perennial.reviewer'], promotedVersion.tags['perennial.outcome']],
    ['approve', 'demo-auto-approver', 'champion'],
  );
  assert.equal(
    (await stack.mlflow.getModelVersion(spec.name, holdout[2])).tags['perennial.outcome'],
    'retired',
    'the champion it replaced',
  );

  // MLflow: one experiment, a parent run per retrain, aliases.
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  const retrains = await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.kind\` = 'retrain'`);
  assert.ok(retrains.length >= 2, `expected the initial and a drift retrain, got ${retrains.length}`);
  // Input drift (rule "drift") or concept drift on the error stream (rule "fresh-data": ADWIN) may come first.
  const driftRun = retrains.find(
    (r) =>
      r.tags['perennial.trigger_rules'] !== 'initial' &&
      /drift/.test(r.tags['perennial.trigger']) &&
      r.tags['perennial.outcome'] === 'promoted',
  );
  assert.ok(driftRun, 'a promoted retrain run triggered by drift');
  assert.ok(JSON.parse(driftRun.tags['perennial.trigger_values']), 'with the values that fired it');
  // The run tells the same story: the canary verdict in its description, every decision in decisions.json.
  assert.match(
    driftRun.tags['mlflow.note.content'],
    /\*\*canary (is not worse|inconclusive)[^*]*\*\*\n {2}- accuracy challenger minus champion/,
  );
  const recorded = JSON.parse(
    new TextDecoder().decode(await stack.mlflow.downloadArtifact(driftRun.artifactUri, 'decisions.json')),
  ) as Array<{ what: string }>;
  assert.deepEqual(
    recorded.map((d) => d.what),
    decisions.map((d) => d.what),
  );
  // The retrain's sweep is a nested run with a nested run per trial; the champion is its best trial.
  const [sweepRun] = await stack.mlflow.childRuns(experimentId, driftRun.runId);
  assert.equal(sweepRun?.tags['perennial.kind'], 'sweep');
  const trials = await stack.mlflow.childRuns(experimentId, sweepRun.runId);
  assert.equal(trials.length, spec.training.sweep.budget.maxTrials);
  for (const t of trials) {
    assert.equal(t.status, 'FINISHED');
    assert.ok(['pruned', 'completed'].includes(t.tags['perennial.trial_state']), t.tags['perennial.trial_state']);
    assert.equal(t.tags['perennial.backend'], 'wasm');
    const epochs = Number(t.tags['perennial.epochs']);
    assert.equal((await stack.mlflow.metricHistory(t.runId, 'val_accuracy')).length, epochs, 'one point per epoch trained');
  }
  const champion = await stack.mlflow.getVersionByAlias(spec.name, 'champion');
  assert.equal(champion?.version, result.championVersion);
  assert.equal(champion!.runId, sweepRun.tags['perennial.best_run_id'], "the champion is the sweep's best trial");
  const report = await stack.mlflow.listArtifacts(sweepRun.artifactUri, 'sweep');
  assert.deepEqual(report.map((a) => a.path).sort(), ['sweep/objective.svg', 'sweep/objective.vl.json', 'sweep/summary.json']);
  assert.equal(driftRun.tags['perennial.challenger_version'], result.championVersion);

  // The model server answers with the new champion alone.
  const deployment = (await (await request(`${stack.servingUrl}/v1/models/${spec.name}/deployment`)).body.json()) as {
    champion: { version: string };
    canary?: unknown;
  };
  assert.equal(deployment.champion.version, result.championVersion);
  assert.equal(deployment.canary, undefined);
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: [{ precipitation: 12, temp_max: 2, temp_min: -3, wind: 6 }] }),
  });
  const { predictions } = (await res.body.json()) as { predictions: Array<{ version: string; label: string }> };
  assert.equal(predictions[0].version, result.championVersion);
  assert.ok(labelClasses(spec.label).includes(predictions[0].label));
});
