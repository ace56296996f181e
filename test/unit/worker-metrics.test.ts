/**
 * The worker's monitoring gauges and its metrics addresses: what a cycle that could not measure
 * something leaves, what a new champion clears, and which PERENNIAL_*_METRICS values are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsConfigError, workerMetricsConfig } from '../../config/metrics.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { noShadowPairs, summarizeShadow } from '../../core/shadow.ts';
import { MonitoringGauges } from '../../worker/metrics.ts';
import { parsePrometheus, sampleSum } from '../helpers/prometheus.ts';

function summary(cycle: number, championVersion: string, measured: { accuracy?: number; driftedShare?: number }): MonitoringSummary {
  const labelled = measured.accuracy !== undefined;
  const tested = measured.driftedShare !== undefined;
  return {
    version: 2,
    at: new Date(Date.UTC(2026, 0, 1, 0, cycle)).toISOString(),
    cycle,
    championVersion,
    performance: {
      n: labelled ? 10 : 0,
      accuracy: measured.accuracy ?? null,
      precisionMacro: null,
      recallMacro: null,
      f1Macro: null,
      logLoss: null,
      perClass: {},
      implicit: { accepted: 0, overridden: 0 },
    },
    drift: {
      rows: tested ? 100 : 3,
      tested,
      features: [],
      drifted: tested ? ['wind'] : [],
      driftedShare: measured.driftedShare ?? 0,
      skipped: [],
    },
    predictions: { n: 0, classDrift: null, meanConfidence: null, lowConfidenceShare: null },
    anomalies: { rows: tested ? 100 : 0, anomalyRate: tested ? 0.02 : null, features: {} },
    detectors: {
      adwin: { drift: cycle === 2, warning: false, errors: 0 },
      ddm: { drift: false, warning: false, errors: 0 },
      'page-hinkley': { drift: false, warning: false, errors: 0 },
    },
    newLabels: 0,
    newRows: 0,
  };
}

const read = async (gauges: MonitoringGauges) => parsePrometheus(await gauges.registry.metrics());

test('a gauge keeps its latest measured value through cycles that could not measure it', async () => {
  const gauges = new MonitoringGauges();
  const model = { model: 'weather' };
  gauges.record('weather', summary(1, '1', { accuracy: 0.8, driftedShare: 0.25 }));
  gauges.record('weather', summary(2, '1', {}));
  const families = await read(gauges);
  assert.equal(sampleSum(families, 'perennial_monitoring_accuracy', model), 0.8);
  assert.equal(sampleSum(families, 'perennial_monitoring_labelled_rows', model), 10);
  assert.equal(sampleSum(families, 'perennial_monitoring_drifted_share', model), 0.25);
  assert.equal(sampleSum(families, 'perennial_monitoring_drifted_features', model), 1);
  assert.equal(sampleSum(families, 'perennial_monitoring_anomaly_rate', model), 0.02);
  // Detectors say what this cycle saw.
  assert.equal(sampleSum(families, 'perennial_monitoring_detector_alarm', { ...model, detector: 'adwin' }), 1);
  assert.equal(sampleSum(families, 'perennial_monitoring_detector_alarm', { ...model, detector: 'ddm' }), 0);
  assert.equal(sampleSum(families, 'perennial_monitoring_last_cycle_timestamp_seconds', model), Date.UTC(2026, 0, 1, 0, 2) / 1000);
});

test("a new champion starts without its predecessor's values; other models are untouched", async () => {
  const gauges = new MonitoringGauges();
  gauges.record('weather', summary(1, '1', { accuracy: 0.8, driftedShare: 0.25 }));
  gauges.record('cars', summary(1, '4', { accuracy: 0.6 }));
  gauges.record('weather', summary(1, '2', {}));
  const families = await read(gauges);
  const series = (name: string, model: string) => families.get(name)!.samples.filter((s) => s.labels.model === model).length;
  assert.equal(series('perennial_monitoring_accuracy', 'weather'), 0);
  assert.equal(series('perennial_monitoring_drifted_share', 'weather'), 0);
  assert.equal(series('perennial_monitoring_detector_alarm', 'weather'), 3, 'detectors are set every cycle');
  assert.equal(sampleSum(families, 'perennial_monitoring_accuracy', { model: 'cars' }), 0.6);
});

test('metrics addresses: host:port or [ipv6]:port, off when unset or empty, anything else refused naming the variable', () => {
  assert.deepEqual(workerMetricsConfig({}), { perennial: undefined, temporal: undefined });
  assert.deepEqual(workerMetricsConfig({ PERENNIAL_WORKER_METRICS: '', PERENNIAL_TEMPORAL_METRICS: ' ' }), {
    perennial: undefined,
    temporal: undefined,
  });
  assert.deepEqual(workerMetricsConfig({ PERENNIAL_WORKER_METRICS: '127.0.0.1:9464', PERENNIAL_TEMPORAL_METRICS: '[::1]:9465' }), {
    perennial: { host: '127.0.0.1', port: 9464 },
    temporal: { host: '::1', port: 9465 },
  });
  for (const bad of ['9464', 'localhost', 'localhost:0', 'localhost:70000', 'http://127.0.0.1:9464', '::1:9464']) {
    assert.throws(
      () => workerMetricsConfig({ PERENNIAL_TEMPORAL_METRICS: bad }),
      (err: Error) => err instanceof MetricsConfigError && err.message.startsWith(`PERENNIAL_TEMPORAL_METRICS=${bad}: expected host:port`),
      bad,
    );
  }
});

test('shadow gauges follow the deployment: measured values stay through quiet cycles, and go with the shadow', async () => {
  const gauges = new MonitoringGauges();
  const model = { model: 'weather' };
  const shadowed = (cycle: number, pairs: number, agreed: number, labelled: number, shadowCorrect: number, championCorrect: number) => ({
    ...summary(cycle, '1', {}),
    shadow: summarizeShadow(
      '2',
      { ...noShadowPairs(), pairs, agreed, labelled: { ...noShadowPairs().labelled, n: labelled, shadowCorrect, championCorrect } },
      false,
    ),
  });
  // 8 of 10 rows agree; of 4 labelled, the shadow got 3 right and the champion 2.
  gauges.record('weather', shadowed(1, 10, 8, 4, 3, 2));
  // A cycle with neither rows nor labels measured nothing.
  gauges.record('weather', shadowed(2, 0, 0, 0, 0, 0));
  let families = await read(gauges);
  assert.equal(sampleSum(families, 'perennial_monitoring_shadow_agreement', model), 0.8);
  assert.equal(sampleSum(families, 'perennial_monitoring_shadow_accuracy', model), 0.75);
  assert.equal(sampleSum(families, 'perennial_monitoring_champion_accuracy_on_shadowed', model), 0.5);
  assert.equal(families.get('perennial_monitoring_shadow_rmse')?.samples.length ?? 0, 0, 'a classifier has no RMSE');

  gauges.record('weather', summary(3, '1', {}));
  families = await read(gauges);
  for (const name of ['shadow_agreement', 'shadow_accuracy', 'champion_accuracy_on_shadowed'])
    assert.equal(families.get(`perennial_monitoring_${name}`)?.samples.length ?? 0, 0, `${name} gone with the shadow`);
});
