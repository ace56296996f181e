/** What every activity needs from the outside world, built once per worker process. */
import type { MlflowClient } from '../adapters/mlflow/client.ts';
import type { Store } from '../adapters/store/index.ts';
import type { MonitoringSummary } from '../core/monitoring.ts';

export interface ActivityContext {
  mlflow: MlflowClient;
  store: Store;
  /** The model server's base URL and the token of its admin endpoint. */
  serving: { url: string; adminToken: string };
  /** Local cache of snapshots and model files; safe to delete. */
  cacheDir: string;
  /** Where each monitoring cycle's numbers are published (the worker's /metrics); absent when nobody scrapes. */
  cycleMetrics?: CycleMetrics;
  /** Where retrains and their outcomes are counted (the worker's /metrics); absent when nobody scrapes. */
  retrainMetrics?: RetrainMetrics;
}

/** Takes a model's latest monitoring summary; worker/metrics.ts turns it into Prometheus gauges. */
export interface CycleMetrics {
  record(model: string, summary: MonitoringSummary): void;
}

/** Retrains as the tracking activities see them start and end; worker/metrics.ts counts them by outcome. */
export interface RetrainMetrics {
  retrainStarted(model: string): void;
  /** `runId` is the retrain's MLflow run: the same retrain is counted once however often its activity runs. */
  retrainFinished(model: string, outcome: string, runId: string): void;
}
