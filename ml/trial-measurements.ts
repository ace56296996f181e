/**
 * What a trial measures besides its per-epoch metrics, for the sweep's cost-aware tie-break and
 * the MLflow run: its final validation scores, the saved model's single-row predict latency, and
 * the peak tensor memory while training.
 */
import { median } from '../core/stats/quantiles.ts';
import type { ModelFiles } from '../core/contracts.ts';
import { loadTf, type Tf } from './backend.ts';
import { loadPredictor } from './bundle.ts';
import type { EpochMetrics, TrainResult } from './train.ts';

/** A trial's validation scores: its last epoch's (a regression model has no log loss, a classifier no RMSE). */
export function finalValidation(
  history: readonly EpochMetrics[],
  regression: boolean,
): Pick<TrainResult, 'valAccuracy' | 'valLogLoss' | 'valRmse' | 'valMae'> {
  const last = history[history.length - 1];
  return regression
    ? { valAccuracy: last.valAccuracy, valLogLoss: NaN, valRmse: last.valRmse, valMae: last.valMae }
    : { valAccuracy: last.valAccuracy, valLogLoss: last.valLoss };
}

/** Single-row predictions timed after the warm-up; their median is the trial's latency. */
const LATENCY_WARMUP = 5;

export async function measurePredictLatency(
  files: ModelFiles,
  rows: Record<string, unknown>[],
  tfOption?: Tf,
): Promise<{ ms: number; backend: string }> {
  const { tf, backend } = tfOption ? { tf: tfOption, backend: tfOption.getBackend() } : await loadTf('auto');
  return { ms: await medianLatency(files, rows, tf), backend };
}

/** The median single-row latency of the model in `files` (NaN without rows); `tf` for a network. */
export async function medianLatency(files: ModelFiles, rows: Record<string, unknown>[], tf?: Tf): Promise<number> {
  if (rows.length === 0) return NaN;
  const predictor = await loadPredictor(files, { tf });
  try {
    for (let i = 0; i < LATENCY_WARMUP; i++) predictor.probabilities([rows[i % rows.length]]);
    const times = rows.map((row) => {
      const t0 = performance.now();
      predictor.probabilities([row]);
      return performance.now() - t0;
    });
    return median(times);
  } finally {
    predictor.dispose();
  }
}

/**
 * Tracks the peak of tf.memory().numBytes by observing every tensor allocation of the engine
 * (its trackTensor method, wrapped while at least one watcher is active). If that internal hook
 * is not there, falls back to the value at start and stop.
 */
export interface PeakWatcher {
  peak(): number;
  stop(): void;
}
const activeWatchers = new Set<{ peak: number }>();
export function watchPeakBytes(tf: Tf): PeakWatcher {
  type EngineInternals = { state?: { numBytes?: number }; trackTensor?: (...args: unknown[]) => void };
  const engine = tf.engine() as unknown as EngineInternals;
  const watcher = { peak: tf.memory().numBytes };
  const hookable = typeof engine.trackTensor === 'function' && typeof engine.state?.numBytes === 'number';
  if (hookable) {
    if (activeWatchers.size === 0 && !Object.hasOwn(engine, 'trackTensor')) {
      const original = engine.trackTensor!;
      engine.trackTensor = function (this: EngineInternals, ...args: unknown[]) {
        original.apply(this, args);
        const bytes = this.state?.numBytes ?? 0;
        for (const w of activeWatchers) if (bytes > w.peak) w.peak = bytes;
      };
    }
    activeWatchers.add(watcher);
  }
  let stopped = false;
  return {
    peak: () => watcher.peak,
    stop() {
      if (stopped) return;
      stopped = true;
      watcher.peak = Math.max(watcher.peak, tf.memory().numBytes);
      activeWatchers.delete(watcher);
      if (activeWatchers.size === 0 && Object.hasOwn(engine, 'trackTensor')) delete engine.trackTensor; // back to the prototype's
    },
  };
}
