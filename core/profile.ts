/**
 * The profile of a model's training data, saved with the model as `profile.json` (ml/bundle.ts
 * buildProfile writes it) and read by monitoring: drift tests compare production inputs with it,
 * anomaly checks with its ranges and categories, prediction drift with its label counts.
 */

export interface FeatureProfile {
  /** 'category' for category features; absent (numeric) otherwise. */
  kind?: 'category';
  /** Rows with a numeric value (category features: with a present value, known or not). */
  n: number;
  /** Rows where the value was missing or not a number (category features: missing). */
  missing: number;
  /** Category features only: rows per value seen (ml/preprocess.ts categoryKey), spec values or not. */
  counts?: Record<string, number>;
  /** Population statistics of the present values (all 0 when n is 0, and for category features). */
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Ascending values; all of them, or PROFILE_SAMPLE_SIZE evenly spaced quantiles (core/stats/quantiles.ts sampleSorted). */
  sample: number[];
}

export interface ReferenceProfile {
  version: 1;
  /** Training rows the profile describes. */
  rows: number;
  features: Record<string, FeatureProfile>;
  /** Training label counts ({} for a regression model). */
  classCounts: Record<string, number>;
  /** A regression model's training labels, profiled as a numeric feature (prediction drift compares with it). */
  target?: FeatureProfile;
  /**
   * A regression model's 90th percentile of |label - prediction| on its training rows: monitoring
   * counts a prediction further off than this as an error, so the concept-drift detectors see an
   * error stream (about 10% errors while nothing changes).
   */
  errorThreshold?: number;
}
