/**
 * Monitoring and policies on real components: predictions and feedback through the model
 * server's HTTP API, monitoring cycles of the lifecycle on Temporal writing metrics and drift
 * reports to MLflow, a policy rule firing a retrain with its evidence recorded everywhere, alerts
 * delivered to a real HTTP receiver, and policies changed at run time by update.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { request } from 'undici';
import { CURRENT, REFERENCE } from '../../adapters/charts/drift-histogram.ts';
import { experimentName, MODEL_DIR } from '../../adapters/mlflow/model-files.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import { weatherData } from '../../stack/demo.ts';
import { mlflowUrl } from '../helpers/services.ts';
import { eventually, newYorkTraffic, seedRecords, startStack, stopWhenDone, testSpec, postToModel } from '../helpers/stack.ts';
import { inlineSvgs, markItems, texts } from '../helpers/svg.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;

before(async () => {
  stack = await startStack();
  hook = await startWebhookReceiver();
});

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

// Each test has its own model on the shared stack and mostly waits for monitoring cycles and
// retrains: the tests wait side by side rather than one after another.
describe('monitoring', { concurrency: true }, () => {
  test('drift in live traffic fires a rule; the evidence reaches Temporal, MLflow, the status query and a webhook', async (t) => {
    const spec = testSpec({
      monitoring: { interval: '1s', drift: { minRows: 300 } },
      policies: { rules: [{ name: 'climate', when: { drift: { features: 2 } } }] },
      alerts: { webhooks: [{ url: hook.url, kinds: ['drift', 'anomalies', 'retrain'] }] },
    });
    await seedRecords(stack.store, spec);
    await stack.client.register(spec);
    stopWhenDone(t, stack, spec.name);
    await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));

    // A year of New York's climate (input drift), two rows a broken client sent (anomalies).
    const { days: newYork, rows } = newYorkTraffic(spec);
    const { predictions } = (await post(spec.name, 'predict', { rows })) as { predictions: Array<{ id: string; label: string }> };
    // Feedback of every kind: true labels, accepted predictions, overrides with and without the label.
    await post(spec.name, 'feedback', {
      feedback: [
        ...predictions.slice(0, 40).map((p, i) => ({ predictionId: p.id, label: newYork[i].weather })),
        ...predictions.slice(40, 50).map((p) => ({ predictionId: p.id, kind: 'accepted' })),
        { predictionId: predictions[50].id, kind: 'overridden', label: predictions[50].label === 'sun' ? 'rain' : 'sun' },
        { predictionId: predictions[51].id, kind: 'overridden' },
      ],
    });

    const status = await eventually('a retrain fired by the climate rule', async () => {
      const s = await stack.client.status(spec.name);
      return s.retrainCount >= 2 ? s : undefined;
    });
    const started = status.history.find((h) => h.what === 'retrain #2 started');
    assert.match(started?.reasons[0] ?? '', /^climate: input drift on [234]\/4 features over 365 predictions: .*\(ks /);

    // The drifting cycle's report (later cycles may have no new rows to test).
    const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
    const [monitoring] = await stack.mlflow.searchRuns(
      [experimentId],
      "tags.`perennial.kind` = 'monitoring' and tags.`perennial.champion` = '1'",
    );
    const cycles = await stack.mlflow.listArtifacts(monitoring.artifactUri, 'monitoring');
    assert.equal(cycles.length, 1, 'one cycle found drift');
    const read = async (path: string) => Buffer.from(await stack.mlflow.downloadArtifact(monitoring.artifactUri, path)).toString('utf8');
    const report = JSON.parse(await read(`${cycles[0].path}/drift.json`)) as {
      summary: MonitoringSummary;
      histograms: Record<string, { edges: number[]; reference: number[]; current: number[] }>;
    };
    assert.equal(report.histograms.wind.edges.length, report.histograms.wind.reference.length + 1);
    // One chart per tested feature: two bars per bin (reference and current), the feature on the x axis.
    const tested = Object.keys(report.histograms);
    const charts = inlineSvgs(await read(`${cycles[0].path}/drift.html`));
    assert.equal(charts.length, tested.length);
    charts.forEach((chart, i) => {
      const name = tested[i];
      assert.equal(markItems(chart, 'bars').length, 2 * report.histograms[name].reference.length, name);
      assert.deepEqual(texts(chart, 'role-axis-title'), [name, 'share of rows']);
      assert.deepEqual(texts(chart, 'role-legend-label'), [REFERENCE, CURRENT]);
      const verdict = report.summary.drift.features.find((f) => f.name === name)!.drifted ? 'drift' : 'no drift';
      assert.match(texts(chart, 'role-title-text')[0], new RegExp(`^${name}: ${verdict} \\(ks p = `));
    });
    // Each chart's spec beside the report, holding the histogram it drew.
    const specs = tested.map((name, i) => `${cycles[0].path}/charts/0${i + 1}-${name}.vl.json`);
    assert.deepEqual(
      (await stack.mlflow.listArtifacts(monitoring.artifactUri, `${cycles[0].path}/charts`)).map((a) => a.path).sort(),
      specs,
    );
    for (const [i, name] of tested.entries()) {
      const spec = JSON.parse(await read(specs[i])) as { data: { values: unknown[] } };
      const { edges, reference, current } = report.histograms[name];
      const bars = (side: string, shares: number[]) =>
        shares.map((share, b) => ({ side, bin_start: edges[b], bin_end: edges[b + 1], share }));
      assert.deepEqual(spec.data.values, [...bars(REFERENCE, reference), ...bars(CURRENT, current)]);
    }

    // The summary: drift, anomalies, implicit feedback, all compact.
    const { summary } = report;
    assert.equal(summary.version, 2);
    assert.ok(summary.drift.tested && summary.drift.drifted.length >= 2);
    assert.deepEqual(
      summary.drift.features.map((f) => f.test),
      ['ks', 'ks', 'ks', 'ks'],
      'up to 1000 rows: KS for numbers',
    );
    assert.equal(summary.anomalies.features.wind.wrongType, 1);
    // New York's climate is outside Seattle's training range too: 900 mm is not alone.
    assert.ok(summary.anomalies.features.precipitation.outOfRange >= 1);
    assert.ok(summary.anomalies.features.precipitation.examples.includes('outOfRange in row 1: 900'));
    assert.equal(summary.anomalies.features.wind.examples[0], 'wrongType in row 0: "calm"');
    assert.ok(JSON.stringify(summary).length < 20_000, 'no raw rows in workflow history');
    // Feedback may arrive just after the drifting cycle: count it over the cycles.
    const total = async (metric: string) =>
      (await stack.mlflow.metricHistory(monitoring.runId, `monitoring/${metric}`)).reduce((n, p) => n + p.value, 0);
    await eventually('all 52 feedbacks judged', async () => ((await total('labelled')) === 52 ? true : undefined));
    assert.equal(await total('feedback_accepted'), 10);
    assert.equal(await total('feedback_overridden'), 2);

    // The trigger's evidence: search attribute, memo, MLflow tags.
    // Retried: the child starts a moment after the lifecycle records it as started.
    const handle = stack.client.temporal.workflow.getHandle(retrainWorkflowId(spec.name, 2));
    const retrain = await eventually('the retrain workflow', () => handle.describe().catch(() => undefined));
    assert.deepEqual(retrain.searchAttributes.TriggerReason, ['climate']);
    const memo = retrain.memo?.trigger as { rules: string[]; values: Record<string, Record<string, number>> };
    assert.deepEqual(memo.rules, ['climate']);
    assert.ok(memo.values.climate.drifted_features >= 2);
    const run = await eventually(
      'the retrain run tagged with its trigger values',
      async () => (await stack.mlflow.searchRuns([experimentId], "tags.`perennial.trigger_rules` = 'climate'"))[0],
    );
    assert.ok(JSON.parse(run.tags['perennial.trigger_values']).climate.drifted_features >= 2);
    const drifted = await stack.mlflow.metricHistory(monitoring.runId, 'monitoring/drifted_features');
    assert.ok(
      drifted.some((p) => p.value >= 2 && p.step >= 1),
      'metrics by cycle step',
    );

    // Alerts: Slack-compatible JSON for the drift, the anomalies and the retrain.
    const kinds = await eventually('drift, anomalies and retrain alerts', async () => {
      const texts = hook.received.map((r) => r.text);
      return ['drift', 'anomalies', 'Retrain #2'].every((k) => texts.some((t) => t.toLowerCase().includes(k.toLowerCase())))
        ? texts
        : undefined;
    });
    assert.ok(kinds.length >= 3);
    assert.ok(hook.received.every((r) => Array.isArray(r.blocks) && r.blocks.length > 0));
  });

  test('policies change at run time by update; invalid ones are refused and change nothing', async (t) => {
    const spec = testSpec({ policies: { newLabels: { count: 1_000_000 } } });
    await seedRecords(stack.store, spec);
    await stack.client.register(spec);
    stopWhenDone(t, stack, spec.name);
    await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));

    await assert.rejects(
      stack.client.setPolicies(spec.name, {
        policies: { rules: [{ name: 'x', when: { metric: 'accuracy' } }] } as never,
        changedBy: 'ana',
        reason: 'tighten',
      }),
      /needs exactly one of below, above, atLeast/,
    );
    // Past the client's own check, the workflow's validator refuses it too.
    const handle = stack.client.temporal.workflow.getHandle(`model/${spec.name}`);
    await assert.rejects(
      handle.executeUpdate('setPolicies', { args: [{ policies: { rules: [{ name: 'x', when: {} }] }, changedBy: 'ana', reason: 'x' }] }),
      (err: Error) => {
        assert.match((err.cause as Error).message, /invalid policies:\n.*exactly one of metric, drift, detector, all, any; got none/s);
        return true;
      },
    );
    assert.deepEqual((await stack.client.status(spec.name)).policies.rules, []);

    const answer = await stack.client.setPolicies(spec.name, {
      policies: { rules: [{ name: 'labels', when: { metric: 'new_labels', atLeast: 10 } }] },
      changedBy: 'ana',
      reason: 'retrain as soon as the field team labels ten rows',
    });
    assert.equal(answer, 'policies updated: labels');
    const status = await stack.client.status(spec.name);
    assert.deepEqual(
      status.policies.rules.map((r) => r.name),
      ['labels'],
    );
    const change = status.history.find((h) => h.what === 'policies changed by ana');
    assert.ok(change?.reasons.includes('retrain as soon as the field team labels ten rows'));
    assert.ok(change?.reasons.includes('rules before: newLabels'));

    // The new rule is the one that judges: ten labelled records trigger a retrain.
    await seedRecords(stack.store, spec, weatherData().traffic.slice(0, 10));
    const fired = await eventually('the labels rule to fire', async () => {
      const s = await stack.client.status(spec.name);
      return s.retrainCount >= 2 ? s : undefined;
    });
    assert.match(fired.history.find((h) => h.what === 'retrain #2 started')?.reasons[0] ?? '', /^labels: new_labels 1\d >= 10/);
  });

  test('a failing monitoring cycle is recorded and the next one carries on', async (t) => {
    // A long interval leaves time to break the champion's profile before the first cycle.
    const spec = testSpec({ monitoring: { interval: '15s' } });
    await seedRecords(stack.store, spec);
    await stack.client.register(spec);
    stopWhenDone(t, stack, spec.name);
    await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
    const { runId } = await stack.mlflow.getModelVersion(spec.name, '1');
    const { artifactUri } = await stack.mlflow.getRun(runId);
    const profile = await stack.mlflow.downloadArtifact(artifactUri, `${MODEL_DIR}/profile.json`);
    await stack.mlflow.uploadArtifact(artifactUri, `${MODEL_DIR}/profile.json`, '{ not json', 'application/json');

    const failed = await eventually('a failed cycle in the history', async () =>
      (await stack.client.status(spec.name)).history.find((h) => h.what === 'monitoring cycle failed; retrying at the next interval'),
    );
    assert.match(failed.reasons[0], /JSON/);
    await stack.mlflow.uploadArtifact(artifactUri, `${MODEL_DIR}/profile.json`, profile, 'application/json');
    const status = await eventually('a cycle that succeeds', async () => {
      const s = await stack.client.status(spec.name);
      return (s.lastSummary as MonitoringSummary | undefined)?.version === 2 ? s : undefined;
    });
    assert.equal(status.championVersion, '1', 'the lifecycle is still running with its champion');
  });

  test('a monitoring run deleted in MLflow is restored by the next measured cycle, which logs to it again', async (t) => {
    // The worker keeps each champion's monitoring run after finding it once: it must notice the deletion.
    const spec = testSpec({ monitoring: { interval: '2s' } });
    await seedRecords(stack.store, spec);
    await stack.client.register(spec);
    stopWhenDone(t, stack, spec.name);
    await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
    const rows = weatherData()
      .traffic.slice(0, 5)
      .map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
    const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
    const monitoringRuns = () => stack.mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'monitoring'");
    const points = (runId: string) => stack.mlflow.metricHistory(runId, 'monitoring/new_rows');

    await post(spec.name, 'predict', { rows });
    const run = await eventually('a cycle logged to the monitoring run', async () => {
      const [found] = await monitoringRuns();
      return found && (await points(found.runId)).some((p) => p.value > 0) ? found : undefined;
    });
    const logged = (await points(run.runId)).length;
    const deleted = await request(`${await mlflowUrl()}/api/2.0/mlflow/runs/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: run.runId }),
    });
    assert.equal(deleted.statusCode, 200, await deleted.body.text());
    assert.deepEqual(await monitoringRuns(), [], 'deleted');

    // Quiet cycles log nothing: new traffic makes the next cycle a measured one.
    await post(spec.name, 'predict', { rows });
    const restored = await eventually('the run restored and logged to', async () => {
      const [found] = await monitoringRuns();
      return found && (await points(found.runId)).length > logged ? found : undefined;
    });
    assert.equal(restored.runId, run.runId, 'the same run, restored: still one monitoring run per champion');
  });
});
