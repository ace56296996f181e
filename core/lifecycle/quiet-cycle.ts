/**
 * A quiet monitoring cycle: nothing reached the log since the lifecycle's cursors, so the monitor
 * activity (profile, MLflow run, a summary of nothing) is skipped and the policies judge a
 * summary built here instead. PURE: the lifecycle workflow calls it.
 *
 * Why judge a built summary rather than run the full cycle every Nth quiet cycle: on an empty log
 * the full cycle measures nothing new (no labels, no drift window, no predictions), so its
 * summary is this one, and the rules that can still fire are those of time and state alone —
 * model_age_days and days_since_retrain (from the clock), new_labels (counted afresh by the check)
 * and any breach the cooldown held back. Judged every cycle, they fire on the cycle they fall due,
 * not up to N cycles late. What a quiet cycle does not do: log an MLflow point or count a cycle
 * (the champion's monitoring run charts the cycles that saw traffic).
 */
import type { MonitorCursors } from '../contracts.ts';
import type { MonitoringSummary } from '../monitoring.ts';

/** What arrived in the log, as the cheap check (activities/monitor-check.ts) reads it. */
export interface LogPosition {
  maxPredictionSeq: number;
  maxFeedbackId: number;
  /** Labelled records since the lifecycle's last training snapshot: the new_labels metric. */
  newLabels: number;
}

/** True when no prediction or feedback arrived since the champion's last measured cycle. */
export function isQuiet(log: LogPosition, cursors: MonitorCursors | undefined, championVersion: string): boolean {
  return (
    cursors !== undefined &&
    cursors.championVersion === championVersion &&
    log.maxPredictionSeq <= cursors.counted &&
    log.maxFeedbackId <= cursors.feedback
  );
}

/** The summary the monitor activity would compute on an empty log, for the policies to judge. */
export function quietSummary(last: MonitoringSummary, at: string, newLabels: number): MonitoringSummary {
  return {
    version: 2,
    at,
    cycle: last.cycle,
    championVersion: last.championVersion,
    performance: {
      n: 0,
      accuracy: null,
      precisionMacro: null,
      recallMacro: null,
      f1Macro: null,
      logLoss: null,
      perClass: {},
      implicit: { accepted: 0, overridden: 0 },
      ...(last.performance.regression ? { regression: { n: 0, mae: null, rmse: null, r2: null, meanError: null } } : {}),
    },
    // Rows too few for a drift test stay pending; a tested window left none.
    drift: { rows: last.drift.tested ? 0 : last.drift.rows, tested: false, features: [], drifted: [], driftedShare: 0, skipped: [] },
    predictions: { n: 0, classDrift: null, meanConfidence: null, lowConfidenceShare: null },
    anomalies: { rows: 0, anomalyRate: null, features: {} },
    detectors: Object.fromEntries(
      Object.entries(last.detectors).map(([name, d]) => [name, { drift: false, warning: d.warning, errors: 0 }]),
    ) as MonitoringSummary['detectors'],
    newLabels,
    newRows: 0,
    ...(last.estimated ? { estimated: { accuracy: null, n: 0, onLabelled: null, note: 'no predictions since the previous cycle' } } : {}),
  };
}
