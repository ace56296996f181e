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
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { CycleMetrics } from '../activities/context.ts';
import { formatBindAddress, type BindAddress } from '../config/metrics.ts';
import { DETECTORS, type MonitoringSummary } from '../core/monitoring.ts';

export class MonitoringGauges implements CycleMetrics {
  readonly registry = new Registry();
  /** The gauges labelled by model alone (created by gauge() below, so declared first). */
  private readonly byModel: Gauge[] = [];
  private readonly accuracy = this.gauge('accuracy', "The champion's accuracy on the latest feedback with labels");
  private readonly estimatedAccuracy = this.gauge(
    'estimated_accuracy',
    "The champion's label-free estimated accuracy (CBPE) on its predictions of the latest cycle that had any",
  );
  private readonly rmse = this.gauge('rmse', "A regression champion's RMSE on the latest feedback with true values");
  private readonly labelled = this.gauge('labelled_rows', 'Predictions with feedback that the latest accuracy or RMSE was measured on');
  private readonly driftedShare = this.gauge('drifted_share', 'Share of features whose input drifted, in the latest tested window');
  private readonly driftedFeatures = this.gauge('drifted_features', 'Features whose input drifted, in the latest tested window');
  private readonly anomalyRate = this.gauge(
    'anomaly_rate',
    'Share of rows with an input anomaly (missing, wrong type, out of range, unseen category), in the latest tested window',
  );
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

  record(model: string, s: MonitoringSummary): void {
    if (this.champions.get(model) !== s.championVersion) this.forget(model);
    this.champions.set(model, s.championVersion);
    const labels = { model };
    const measured = (gauge: Gauge, value: number | null | undefined) => {
      if (typeof value === 'number' && Number.isFinite(value)) gauge.set(labels, value);
    };
    if (s.performance.n > 0) {
      measured(this.accuracy, s.performance.accuracy);
      measured(this.rmse, s.performance.regression?.rmse);
      measured(this.labelled, s.performance.n);
    }
    measured(this.estimatedAccuracy, s.estimated?.accuracy);
    if (s.drift.tested) {
      measured(this.driftedShare, s.drift.driftedShare);
      measured(this.driftedFeatures, s.drift.drifted.length);
      measured(this.anomalyRate, s.anomalies.anomalyRate);
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

  /** Drops every series of the model (its champion changed). */
  private forget(model: string): void {
    for (const gauge of this.byModel) gauge.remove({ model });
    for (const detector of DETECTORS) this.detectorAlarm.remove({ model, detector });
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
