/**
 * How long activities may take and how they retry. Two failures shape these numbers:
 * - a service outage (MLflow, the model server, the log): every attempt fails fast, so retries
 *   back off to one every 30 s and stop only when schedule-to-close runs out (15 minutes rides
 *   out a 10-minute outage), never after a small number of attempts;
 * - a lost worker: nothing answers, so the attempt must time out quickly. Short calls get a
 *   30 s start-to-close; longer ones heartbeat (activities/index.ts does it for them) and are
 *   given up after 30 s of silence.
 * Bad input is not retried: its error types are non-retryable.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/** Error types that retrying cannot fix: the request itself is wrong. */
export const BAD_INPUT_ERRORS = ['ModelLoadError', 'MlflowRequestRefused', 'SnapshotMismatch', 'InvalidAlert', 'UnknownVersion'];

const RIDE_OUT_OUTAGES = {
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: BAD_INPUT_ERRORS },
} satisfies ActivityOptions;

/** One or a few requests to MLflow, the model server or the log. */
export const SHORT_CALL: ActivityOptions = { ...RIDE_OUT_OUTAGES, startToCloseTimeout: '30s' };

/** Reads and computes for a while (snapshots, validation, evaluation), heartbeating as it goes. */
export const LONGER_CALL: ActivityOptions = { ...RIDE_OUT_OUTAGES, startToCloseTimeout: '5m', heartbeatTimeout: '30s' };
