/**
 * The model server's batching settings, from the environment:
 *   PERENNIAL_BATCH_MAX_DELAY_MS   how long a predict request may wait for others to share its tensor call
 *   PERENNIAL_BATCH_MAX_ROWS       rows per tensor call at most
 *   PERENNIAL_LOG_MAX_DELAY_MS     how long a log write may wait for others to share its commit
 *   PERENNIAL_LOG_MAX_ROWS         rows per commit at most
 * A delay of 0 batches what arrived during one turn of the event loop (serving/batcher.ts).
 */
import type { BatchSettings } from './batcher.ts';

export interface ServingBatchSettings {
  predict: BatchSettings;
  log: BatchSettings;
}

export const DEFAULT_BATCH_SETTINGS: ServingBatchSettings = {
  predict: { maxDelayMs: 0, maxRows: 4096 },
  log: { maxDelayMs: 0, maxRows: 10_000 },
};

export function batchSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ServingBatchSettings {
  const { predict, log } = DEFAULT_BATCH_SETTINGS;
  return {
    predict: {
      maxDelayMs: number(env, 'PERENNIAL_BATCH_MAX_DELAY_MS', predict.maxDelayMs, 0),
      maxRows: number(env, 'PERENNIAL_BATCH_MAX_ROWS', predict.maxRows, 1),
    },
    log: {
      maxDelayMs: number(env, 'PERENNIAL_LOG_MAX_DELAY_MS', log.maxDelayMs, 0),
      maxRows: number(env, 'PERENNIAL_LOG_MAX_ROWS', log.maxRows, 1),
    },
  };
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name}=${raw}: expected a number >= ${min}`);
  return value;
}
