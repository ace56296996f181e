/**
 * What one monitoring cycle learned about production (activities/monitor.ts builds it), and the
 * metrics policies can name. PURE: the lifecycle workflow keeps the last summary and evaluates
 * policies over it, so it stays compact — counts, rates and test results, never raw rows.
 */
import type { ShadowComparison } from './shadow.ts';

export const DETECTORS = ['adwin', 'ddm', 'page-hinkley'] as const;
export type DetectorName = (typeof DETECTORS)[number];

export interface FeatureDriftSummary {
  name: string;
  test: string;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
}

export interface MonitoringSummary {
  version: 2;
  at: string;
  /** Monitoring cycles of this champion so far, this one included: the step of its MLflow metrics. */
  cycle: number;
  championVersion: string;
  /** Champion predictions that got feedback since the previous cycle. */
  performance: {
    n: number;
    accuracy: number | null;
    precisionMacro: number | null;
    recallMacro: number | null;
    f1Macro: number | null;
    logLoss: number | null;
    perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
    /** Implicit feedback: predictions users accepted, or overrode without saying the right label. */
    implicit: { accepted: number; overridden: number };
    /** A regression model's errors on the feedback with a true value (core/metrics/regression.ts regressionReport); the class metrics above are then null. */
    regression?: { n: number; mae: number | null; rmse: number | null; r2: number | null; meanError: number | null };
  };
  /** Input drift of the predictions since the drift cursor, against the champion's training profile. */
  drift: {
    rows: number;
    /** False while fewer than monitoring.drift.minRows rows arrived: they wait for the next cycle. */
    tested: boolean;
    features: FeatureDriftSummary[];
    drifted: string[];
    driftedShare: number;
    skipped: Array<{ name: string; reason: string }>;
  };
  predictions: {
    n: number;
    /** Jensen-Shannon distance (base e) and L-infinity between predicted and training class shares. */
    classDrift: { jensenShannon: number; linf: number } | null;
    /** A regression model's predicted numbers against its training labels: the automatic numeric drift test (KS up to 1,000 rows, Wasserstein beyond). */
    valueDrift?: { test: string; statistic: number; pValue: number | null; drifted: boolean } | null;
    meanConfidence: number | null;
    lowConfidenceShare: number | null;
  };
  anomalies: {
    rows: number;
    anomalyRate: number | null;
    /** Per feature, only those with anomalies: counts and a few examples. */
    features: Record<string, { missing: number; wrongType: number; outOfRange: number; unseenCategory: number; examples: string[] }>;
  };
  /** Concept-drift detectors on the champion's error stream (1 = wrong): did they alarm this cycle? */
  detectors: Record<DetectorName, { drift: boolean; warning: boolean; errors: number }>;
  /** Labelled records stored since the last training snapshot. */
  newLabels: number;
  /** Predictions served by the champion since the previous cycle. */
  newRows: number;
  fairness?: { column: string; gap: number | null; groups: Record<string, { n: number; value: number | null }> };
  /** Drift report artifacts written this cycle (MLflow artifact path), when drift was found. */
  report?: string;
  /**
   * When the deployment has a shadow: its agreement with the champion on the rows shadowed since
   * the previous cycle, and both live scores on the shadowed rows labelled since then.
   */
  shadow?: ShadowComparison;
  /**
   * A classifier champion's label-free accuracy (CBPE, core/estimation/champion-estimate.ts): the
   * expected accuracy of its predictions served since the previous cycle, from their probabilities
   * and the calibration fitted on its holdout at retrain. `onLabelled` is the same estimate on the
   * predictions labelled this cycle, the rows `performance.accuracy` measures. Absent for a
   * regression model and in summaries from before CBPE.
   */
  estimated?: EstimatedPerformance;
}

export interface EstimatedPerformance {
  /** Null when not estimated: `note` says why (no calibration for this version, no predictions). */
  accuracy: number | null;
  /** Predictions the estimate is over. */
  n: number;
  onLabelled: number | null;
  note?: string;
}

/** Metrics a policy rule can compare with a threshold. */
export const METRICS = [
  'accuracy',
  'f1_macro',
  'precision_macro',
  'recall_macro',
  'log_loss',
  'mae',
  'rmse',
  'r2',
  'estimated_accuracy',
  'drifted_features',
  'drifted_share',
  'prediction_drift',
  'mean_confidence',
  'low_confidence_share',
  'anomaly_rate',
  'new_labels',
  'new_rows',
  'fairness_gap',
  'model_age_days',
  'days_since_retrain',
] as const;
export type MetricName = (typeof METRICS)[number];

/** Metrics measured on labelled feedback: they need enough labels to mean anything. */
export const LABEL_METRICS: readonly MetricName[] = [
  'accuracy',
  'f1_macro',
  'precision_macro',
  'recall_macro',
  'log_loss',
  'mae',
  'rmse',
  'r2',
];

/** When the champion was promoted and the last retrain started, for the age metrics. */
export interface MonitoringClock {
  nowMs: number;
  championSinceMs?: number;
  lastRetrainMs?: number;
}

const DAY_MS = 86_400_000;

/** A metric's value in this cycle, or null when the cycle did not measure it. */
export function metricValue(s: MonitoringSummary, metric: MetricName, clock: MonitoringClock): number | null {
  switch (metric) {
    case 'accuracy':
      return s.performance.accuracy;
    case 'f1_macro':
      return s.performance.f1Macro;
    case 'precision_macro':
      return s.performance.precisionMacro;
    case 'recall_macro':
      return s.performance.recallMacro;
    case 'log_loss':
      return s.performance.logLoss;
    case 'mae':
      return s.performance.regression?.mae ?? null;
    case 'rmse':
      return s.performance.regression?.rmse ?? null;
    case 'r2':
      return s.performance.regression?.r2 ?? null;
    case 'estimated_accuracy':
      return s.estimated?.accuracy ?? null;
    case 'drifted_features':
      return s.drift.tested ? s.drift.drifted.length : null;
    case 'drifted_share':
      return s.drift.tested ? s.drift.driftedShare : null;
    case 'prediction_drift':
      // A classifier's Jensen-Shannon distance between class shares; a regression model's drift statistic of its predicted numbers.
      return s.predictions.classDrift?.jensenShannon ?? s.predictions.valueDrift?.statistic ?? null;
    case 'mean_confidence':
      return s.predictions.meanConfidence;
    case 'low_confidence_share':
      return s.predictions.lowConfidenceShare;
    case 'anomaly_rate':
      return s.anomalies.anomalyRate;
    case 'new_labels':
      return s.newLabels;
    case 'new_rows':
      return s.newRows;
    case 'fairness_gap':
      return s.fairness?.gap ?? null;
    case 'model_age_days':
      return clock.championSinceMs === undefined ? null : (clock.nowMs - clock.championSinceMs) / DAY_MS;
    case 'days_since_retrain':
      return clock.lastRetrainMs === undefined ? null : (clock.nowMs - clock.lastRetrainMs) / DAY_MS;
  }
}
