/**
 * The worker's monitoring gauges and its metrics addresses: what a cycle that could not measure
 * something leaves, what a new champion clears, per-feature drift, retrains by outcome, and which
 * PERENNIAL_*_METRICS values are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsConfigError, workerMetricsConfig } from '../../config/metrics.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { noShadowPairs, summarizeShadow } from '../../core/shadow.ts';
import { MonitoringGauges, RETRAIN_OUTCOMES } from '../../worker/metrics.ts';
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

test('F1 and per-feature drift follow the tested window: a skipped feature or a replaced test loses its series', async () => {
  const gauges = new MonitoringGauges();
  const model = 'weather';
  const feature = (name: string, test: string, statistic: number, drifted: boolean, pValue?: number) => ({
    name,
    test,
    statistic,
    ...(pValue === undefined ? {} : { pValue }),
    threshold: pValue === undefined ? 0.1 : 0.05,
    drifted,
  });
  const tested = (cycle: number, features: ReturnType<typeof feature>[]) => {
    const s = summary(cycle, '1', { accuracy: 0.7, driftedShare: 0.5 });
    return { ...s, performance: { ...s.performance, f1Macro: 0.6 }, drift: { ...s.drift, features } };
  };
  gauges.record(model, tested(1, [feature('wind', 'ks', 0.4, true, 0.001), feature('temp_max', 'wasserstein', 0.02, false)]));
  let families = await read(gauges);
  assert.equal(sampleSum(families, 'perennial_monitoring_f1_macro', { model }), 0.6);
  assert.equal(sampleSum(families, 'perennial_monitoring_feature_drift_score', { model, feature: 'wind', test: 'ks' }), 0.4);
  assert.equal(sampleSum(families, 'perennial_monitoring_feature_drift_p_value', { model, feature: 'wind', test: 'ks' }), 0.001);
  assert.equal(sampleSum(families, 'perennial_monitoring_feature_drifted', { model, feature: 'wind' }), 1);
  assert.equal(sampleSum(families, 'perennial_monitoring_feature_drifted', { model, feature: 'temp_max' }), 0);
  assert.equal(families.get('perennial_monitoring_feature_drift_p_value')!.samples.length, 1, 'a distance has no p-value');

  // An untested cycle keeps them; the next tested window uses Wasserstein for wind and skips temp_max.
  gauges.record(model, summary(2, '1', {}));
  assert.equal(sampleSum(await read(gauges), 'perennial_monitoring_feature_drift_score', { model, feature: 'wind', test: 'ks' }), 0.4);
  gauges.record(model, tested(3, [feature('wind', 'wasserstein', 0.3, true)]));
  families = await read(gauges);
  const series = (name: string) => families.get(name)!.samples.map((s) => s.labels);
  assert.deepEqual(series('perennial_monitoring_feature_drift_score'), [{ model, feature: 'wind', test: 'wasserstein' }]);
  assert.deepEqual(series('perennial_monitoring_feature_drift_p_value'), []);
  assert.deepEqual(series('perennial_monitoring_feature_drifted'), [{ model, feature: 'wind' }]);

  // A new champion starts with none.
  gauges.record(model, summary(1, '2', {}));
  families = await read(gauges);
  for (const name of ['feature_drift_score', 'feature_drifted', 'f1_macro'])
    assert.equal(families.get(`perennial_monitoring_${name}`)!.samples.length, 0, name);
});

test('retrains are counted once per run by outcome, every outcome starting at 0 once the model is known', async () => {
  const gauges = new MonitoringGauges();
  const count = async (model: string, outcome: string) => sampleSum(await read(gauges), 'perennial_retrains_total', { model, outcome });
  assert.equal((await read(gauges)).get('perennial_retrains_total')!.type, 'counter');
  assert.equal((await read(gauges)).get('perennial_retrains_total')!.samples.length, 0, 'no model known yet');

  gauges.retrainStarted('weather');
  const zeroes = (await read(gauges)).get('perennial_retrains_total')!.samples;
  assert.deepEqual(
    zeroes.map((s) => [s.labels.outcome, s.value]),
    RETRAIN_OUTCOMES.map((outcome) => [outcome, 0]),
  );
  gauges.retrainFinished('weather', 'promoted', 'run-1');
  gauges.retrainFinished('weather', 'promoted', 'run-1'); // the activity retried after it recorded
  gauges.retrainFinished('weather', 'rolled-back', 'run-2');
  gauges.retrainFinished('weather', 'failed', 'run-3');
  assert.equal(await count('weather', 'promoted'), 1);
  assert.equal(await count('weather', 'rolled-back'), 1);
  assert.equal(await count('weather', 'failed'), 1);
  assert.equal(await count('weather', 'rejected'), 0);

  // A model first seen in a monitoring cycle (its retrain started on another worker) has its zeroes too.
  gauges.record('cars', summary(1, '1', {}));
  assert.equal(
    (await read(gauges)).get('perennial_retrains_total')!.samples.filter((s) => s.labels.model === 'cars').length,
    RETRAIN_OUTCOMES.length,
  );
  // A new champion clears gauges, never counts.
  gauges.record('weather', summary(1, '2', {}));
  assert.equal(await count('weather', 'promoted'), 1);
});
