/**
 * The worker's metrics on real processes: a lifecycle's monitoring cycles on Temporal set the
 * model's gauges on the worker's /metrics (accuracy exactly as the feedback says, drift, anomaly
 * rate, detector alarms), and `tsx worker/main.ts` serves both its own /metrics and Temporal
 * Core's runtime metrics at the addresses its environment names, or refuses a bad address.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { freePort } from '../../stack/services.ts';
import { DETECTORS } from '../../core/monitoring.ts';
import { scrape, sampleSum } from '../helpers/prometheus.ts';
import { onTeardown, tempDir, temporalAddress } from '../helpers/services.ts';
import { eventually, newYorkTraffic, seedRecords, startStack, testSpec, postToModel } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;

before(async () => {
  stack = await startStack({ workerMetrics: { host: '127.0.0.1', port: 0 } });
});

const post = (model: string, path: string, body: unknown) => postToModel(stack, model, path, body);

test("monitoring cycles set the model's gauges on the worker's /metrics", async () => {
  const spec = testSpec({ monitoring: { interval: '1s', drift: { minRows: 300 } } });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
  assert.ok(stack.workerMetricsUrl, 'the worker serves metrics');

  // A year of New York's climate (input drift), two rows a broken client sent (anomalies).
  const { days: newYork, rows } = newYorkTraffic(spec);
  const { predictions } = (await post(spec.name, 'predict', { rows })) as { predictions: Array<{ id: string; label: string }> };
  // 40 true labels in one request, so one cycle sees them all; accuracy is what the champion got right.
  const labelled = predictions.slice(0, 40).map((p, i) => ({ predictionId: p.id, label: String(newYork[i].weather) }));
  await post(spec.name, 'feedback', { feedback: labelled });
  const right = labelled.filter((f, i) => predictions[i].label === f.label).length;

  const model = { model: spec.name };
  const gauges = await eventually('the gauges of the cycles that saw the feedback and the drift', async () => {
    const families = await scrape(stack.workerMetricsUrl!);
    const seen = (name: string) => families.get(name)?.samples.some((s) => s.labels.model === spec.name);
    return seen('perennial_monitoring_accuracy') && seen('perennial_monitoring_drifted_share') ? families : undefined;
  });
  assert.equal(sampleSum(gauges, 'perennial_monitoring_labelled_rows', model), 40);
  assert.ok(Math.abs(sampleSum(gauges, 'perennial_monitoring_accuracy', model) - right / 40) < 1e-9, 'accuracy = right / 40');
  const drifted = sampleSum(gauges, 'perennial_monitoring_drifted_features', model);
  assert.ok(drifted >= 2, `New York's inputs drift on at least 2 of 4 features (${drifted})`);
  assert.ok(Math.abs(sampleSum(gauges, 'perennial_monitoring_drifted_share', model) - drifted / 4) < 1e-9);
  // The two broken rows, and New York's temperatures beyond Seattle's training range.
  const anomalyRate = sampleSum(gauges, 'perennial_monitoring_anomaly_rate', model);
  assert.ok(anomalyRate >= 2 / 365 && anomalyRate <= 1, `anomaly rate ${anomalyRate}`);
  for (const detector of DETECTORS) {
    const alarm = gauges
      .get('perennial_monitoring_detector_alarm')
      ?.samples.find((s) => s.labels.model === spec.name && s.labels.detector === detector);
    assert.ok(alarm && (alarm.value === 0 || alarm.value === 1), `detector ${detector} is 0 or 1`);
  }
  const lastCycle = sampleSum(gauges, 'perennial_monitoring_last_cycle_timestamp_seconds', model);
  assert.ok(Math.abs(lastCycle - Date.now() / 1000) < 600, 'the last cycle ran minutes ago at most');
  // No regression model here: no RMSE series for it.
  assert.equal(gauges.get('perennial_monitoring_rmse')?.samples.filter((s) => s.labels.model === spec.name).length ?? 0, 0);
});

async function workerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const dir = tempDir('perennial-worker-metrics-');
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'worker', 'main.ts')], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: await temporalAddress(),
      PERENNIAL_TASK_QUEUE: `metrics-${randomUUID()}`,
      PERENNIAL_DATA_DIR: dir,
      PERENNIAL_DB: join(dir, 'perennial.sqlite'),
      ...env,
    },
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  onTeardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  return { child, output: () => output };
}

test("worker/main.ts serves its /metrics and Temporal Core's at the configured addresses", async () => {
  const [own, core] = [await freePort(), await freePort()];
  const worker = await workerProcess({ PERENNIAL_WORKER_METRICS: `127.0.0.1:${own}`, PERENNIAL_TEMPORAL_METRICS: `127.0.0.1:${core}` });

  const temporal = await eventually(
    "Temporal Core's metrics",
    async () => {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited: ${worker.output()}`);
      const families = await scrape(`http://127.0.0.1:${core}/metrics`);
      // The worker's own (pollers, task slots) appear once it polls, after the connection's.
      return [...families.keys()].some((name) => /^temporal_.*(poller|slots)/.test(name)) ? families : undefined;
    },
    60_000,
  );
  const names = [...temporal.keys()].filter((name) => name.startsWith('temporal_'));
  // Seen here: temporal_request(_latency), temporal_long_request, temporal_num_pollers, temporal_worker_start, temporal_worker_task_slots_*.
  for (const name of ['temporal_request', 'temporal_num_pollers', 'temporal_worker_task_slots_available'])
    assert.ok(names.includes(name), `${name} among ${names.join(', ')}`);

  // The worker's own endpoint answers in the text format, its families declared before any cycle ran.
  const mine = await scrape(`http://127.0.0.1:${own}/metrics`);
  assert.equal(mine.get('perennial_monitoring_accuracy')?.type, 'gauge');
  assert.equal((await fetch(`http://127.0.0.1:${own}/other`)).status, 404);
  assert.match(worker.output(), new RegExp(`monitoring gauges at http://127\\.0\\.0\\.1:${own}/metrics`));

  worker.child.kill('SIGTERM');
  const [code] = await once(worker.child, 'exit');
  assert.equal(code, 0, worker.output());
});

test('a metrics address that cannot work stops the worker with one line naming the variable', async () => {
  const worker = await workerProcess({ PERENNIAL_WORKER_METRICS: 'localhost' });
  const [code] = await once(worker.child, 'exit');
  assert.equal(code, 1);
  assert.match(worker.output(), /^perennial worker: PERENNIAL_WORKER_METRICS=localhost: expected host:port/m);
  assert.doesNotMatch(worker.output(), /\n\s+at /, 'no stack trace');
});
