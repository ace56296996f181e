/**
 * The worker's own Prometheus endpoint: Perennial's gauges from each model's latest monitoring
 * cycle (the monitor activity records them through ActivityContext.cycleMetrics), served by a
 * small HTTP server at `GET /metrics`. Temporal Core's runtime metrics have their own endpoint
 * (worker/telemetry.ts): Core serves them from native code, outside this registry.
 *
 * Each gauge holds the latest value measured for the model's current champion: a cycle that
 * could not measure it (no feedback yet, too few new rows for a drift test) leaves it as it was, so
 * alerts on a slow trickle of labels do not flicker; `perennial_monitoring_last_cycle_timestamp_seconds`
 * says when a cycle last ran. A new champion starts with none of its predecessor's values.
 * Per-feature drift series are those of the latest tested window: a feature it skipped, or a test
 * it no longer uses (KS gives way to Wasserstein as the rows grow), loses its series.
 *
 * `perennial_retrains_total` counts retrains by outcome as the finishRetrainRun activity records
 * them (every retrain ends there, a failed one with outcome `failed`). Its series start at 0 for
 * every outcome once a model is monitored or retrained here, so an increase sees the first of each.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { CycleMetrics, RetrainMetrics } from '../activities/context.ts';
import { formatBindAddress, type BindAddress } from '../config/metrics.ts';
import { DETECTORS, type FeatureDriftSummary, type MonitoringSummary } from '../core/monitoring.ts';
import type { RetrainOutcome } from '../workflows/retrain.ts';

/** Every way a retrain ends: the workflow's outcomes, and `failed` when it threw. */
export const RETRAIN_OUTCOMES = [
  'promoted',
  'rejected',
  'not-better',
  'failed-gate',
  'invalid-data',
  'rolled-back',
  'rejected-in-shadow',
  'failed',
] as const satisfies ReadonlyArray<RetrainOutcome | 'failed'>;
type Unlisted = Exclude<RetrainOutcome, (typeof RETRAIN_OUTCOMES)[number]>;
/** A new RetrainOutcome fails to compile here until it is listed above. */
const _everyOutcomeListed: [Unlisted] extends [never] ? true : Unlisted = true;

export class MonitoringGauges implements CycleMetrics, RetrainMetrics {
  readonly registry = new Registry();
  /** The gauges labelled by model alone (created by gauge() below, so declared first). */
  private readonly byModel: Gauge[] = [];
  private readonly accuracy = this.gauge('accuracy', "The champion's accuracy on the latest feedback with labels");
  private readonly estimatedAccuracy = this.gauge(
    'estimated_accuracy',
    "The champion's label-free estimated accuracy (CBPE) on its predictions of the latest cycle that had any",
  );
  private readonly f1Macro = this.gauge('f1_macro', "A classifier champion's macro-averaged F1 on the latest feedback with labels");
  private readonly rmse = this.gauge('rmse', "A regression champion's RMSE on the latest feedback with true values");
  private readonly labelled = this.gauge('labelled_rows', 'Predictions with feedback that the latest accuracy or RMSE was measured on');
  private readonly driftedShare = this.gauge('drifted_share', 'Share of features whose input drifted, in the latest tested window');
  private readonly driftedFeatures = this.gauge('drifted_features', 'Features whose input drifted, in the latest tested window');
  private readonly anomalyRate = this.gauge(
    'anomaly_rate',
    'Share of rows with an input anomaly (missing, wrong type, out of range, unseen category), in the latest tested window',
  );
  /** Per feature of the latest tested window; `test` names what the statistic is (core/drift/catalogue.ts). */
  private readonly featureDrift = {
    score: this.gauge('feature_drift_score', "The drift test's statistic for the feature (KS D, chi-square, or the distance)", [
      'feature',
      'test',
    ]),
    pValue: this.gauge('feature_drift_p_value', "The drift test's p-value for the feature, for tests that give one (ks, chisquare)", [
      'feature',
      'test',
    ]),
    drifted: this.gauge('feature_drifted', '1 when the feature drifted in the latest tested window, else 0', ['feature']),
  };
  /** The (feature, test) pairs each model has series of. */
  private readonly featureSeries = new Map<string, Array<{ feature: string; test: string }>>();
  private readonly detectorAlarm = this.gauge('detector_alarm', '1 when the concept-drift detector alarmed in the last cycle, else 0', [
    'detector',
  ]);
  /** The deployment's shadow against the champion on the same rows; gone while there is no shadow. */
  private readonly shadow = {
    agreement: this.gauge(
      'shadow_agreement',
      "Share of shadowed rows where the shadow predicted the champion's class, in the latest cycle",
    ),
    meanAbsDifference: this.gauge(
      'shadow_mean_abs_difference',
      "Mean absolute difference of the shadow's and the champion's predictions (regression), in the latest cycle",
    ),
    accuracy: this.gauge('shadow_accuracy', "The shadow's accuracy on the latest labelled shadowed rows"),
    championAccuracy: this.gauge('champion_accuracy_on_shadowed', "The champion's accuracy on the same rows as shadow_accuracy"),
    rmse: this.gauge('shadow_rmse', "A regression shadow's RMSE on the latest labelled shadowed rows"),
    championRmse: this.gauge('champion_rmse_on_shadowed', "The champion's RMSE on the same rows as shadow_rmse"),
  };
  private readonly lastCycle = this.gauge('last_cycle_timestamp_seconds', 'When the last monitoring cycle ran (the lifecycle time)');
  private readonly champions = new Map<string, string>();
  private readonly retrains = new Counter({
    name: 'perennial_retrains_total',
    help: 'Retrains finished, by outcome (promoted, rejected, not-better, failed-gate, invalid-data, rolled-back, rejected-in-shadow, failed)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  /** Retrain runs counted by this process: an activity retried after it recorded changes nothing. */
  private readonly countedRuns = new Set<string>();
  /** Models whose retrain series exist here. */
  private readonly retrainModels = new Set<string>();

  retrainStarted(model: string): void {
    this.knowRetrainsOf(model);
  }

  retrainFinished(model: string, outcome: string, runId: string): void {
    this.knowRetrainsOf(model);
    if (this.countedRuns.has(runId)) return;
    // Bounded: a retry comes minutes after its attempt, not thousands of retrains later.
    if (this.countedRuns.size >= 10_000) this.countedRuns.clear();
    this.countedRuns.add(runId);
    this.retrains.inc({ model, outcome });
  }

  /** Every outcome's series at 0, so that the first retrain of each is an increase (a new series at 1 is not). */
  private knowRetrainsOf(model: string): void {
    if (this.retrainModels.has(model)) return;
    this.retrainModels.add(model);
    for (const outcome of RETRAIN_OUTCOMES) this.retrains.inc({ model, outcome }, 0);
  }

  record(model: string, s: MonitoringSummary): void {
    // A retrain may start on another worker and finish on this one: a monitored model's series exist before it does.
    this.knowRetrainsOf(model);
    if (this.champions.get(model) !== s.championVersion) this.forget(model);
    this.champions.set(model, s.championVersion);
    const labels = { model };
    const measured = (gauge: Gauge, value: number | null | undefined) => {
      if (typeof value === 'number' && Number.isFinite(value)) gauge.set(labels, value);
    };
    if (s.performance.n > 0) {
      measured(this.accuracy, s.performance.accuracy);
      measured(this.f1Macro, s.performance.f1Macro);
      measured(this.rmse, s.performance.regression?.rmse);
      measured(this.labelled, s.performance.n);
    }
    measured(this.estimatedAccuracy, s.estimated?.accuracy);
    if (s.drift.tested) {
      measured(this.driftedShare, s.drift.driftedShare);
      measured(this.driftedFeatures, s.drift.drifted.length);
      measured(this.anomalyRate, s.anomalies.anomalyRate);
      this.recordFeatureDrift(model, s.drift.features);
    }
    if (!s.shadow) for (const gauge of Object.values(this.shadow)) gauge.remove(labels);
    if (s.shadow && s.shadow.pairs > 0) {
      measured(this.shadow.agreement, s.shadow.agreement);
      measured(this.shadow.meanAbsDifference, s.shadow.meanAbsDifference);
    }
    if (s.shadow && s.shadow.shadow.n > 0) {
      measured(this.shadow.accuracy, s.shadow.shadow.accuracy);
      measured(this.shadow.championAccuracy, s.shadow.champion.accuracy);
      measured(this.shadow.rmse, s.shadow.shadow.rmse);
      measured(this.shadow.championRmse, s.shadow.champion.rmse);
    }
    for (const [detector, state] of Object.entries(s.detectors)) this.detectorAlarm.set({ model, detector }, state.drift ? 1 : 0);
    this.lastCycle.set(labels, Date.parse(s.at) / 1000);
  }

  /** The window's features replace the previous window's series. */
  private recordFeatureDrift(model: string, features: FeatureDriftSummary[]): void {
    this.forgetFeatures(model);
    for (const f of features) {
      const labels = { model, feature: f.name, test: f.test };
      if (Number.isFinite(f.statistic)) this.featureDrift.score.set(labels, f.statistic);
      if (f.pValue !== undefined && Number.isFinite(f.pValue)) this.featureDrift.pValue.set(labels, f.pValue);
      this.featureDrift.drifted.set({ model, feature: f.name }, f.drifted ? 1 : 0);
    }
    this.featureSeries.set(
      model,
      features.map((f) => ({ feature: f.name, test: f.test })),
    );
  }

  private forgetFeatures(model: string): void {
    for (const { feature, test } of this.featureSeries.get(model) ?? []) {
      this.featureDrift.score.remove({ model, feature, test });
      this.featureDrift.pValue.remove({ model, feature, test });
      this.featureDrift.drifted.remove({ model, feature });
    }
    this.featureSeries.delete(model);
  }

  /** Drops every series of the model (its champion changed). */
  private forget(model: string): void {
    for (const gauge of this.byModel) gauge.remove({ model });
    for (const detector of DETECTORS) this.detectorAlarm.remove({ model, detector });
    this.forgetFeatures(model);
  }

  private gauge(name: string, help: string, extraLabels: string[] = []): Gauge {
    const gauge = new Gauge({
      name: `perennial_monitoring_${name}`,
      help,
      labelNames: ['model', ...extraLabels],
      registers: [this.registry],
    });
    if (!extraLabels.length) this.byModel.push(gauge);
    return gauge;
  }
}

/** Listening on `bindAddress` (`host:port`; port 0 picks one); `url` is the address of /metrics. */
export async function serveMetrics(registry: Registry, bindAddress: BindAddress) {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve metrics on ${formatBindAddress(bindAddress)}: ${err.message}`)));
    server.listen(bindAddress.port, bindAddress.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${formatBindAddress({ host: bindAddress.host, port })}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
