/**
 * How long activities may take and how they retry. Two failures shape these numbers:
 * - a service outage (MLflow, the model server, the log): every attempt fails fast, so retries
 *   back off to one every 30 s and stop only when schedule-to-close runs out (15 minutes rides
 *   out a 10-minute outage), never after a small number of attempts;
 * - a lost worker: nothing answers, so the attempt must be given up quickly. Every activity
 *   heartbeats (activities/index.ts does it for those that don't themselves), so a lost worker
 *   is noticed within the heartbeat timeout, while a slow but live MLflow request on a loaded
 *   machine may take its time (start-to-close is generous).
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
export const SHORT_CALL: ActivityOptions = { ...RIDE_OUT_OUTAGES, startToCloseTimeout: '2m', heartbeatTimeout: '20s' };

/** Reads and computes for a while (snapshots, validation, evaluation). */
export const LONGER_CALL: ActivityOptions = { ...RIDE_OUT_OUTAGES, startToCloseTimeout: '10m', heartbeatTimeout: '30s' };
