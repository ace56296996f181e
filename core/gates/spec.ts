/**
 * The spec of the evaluation gates a challenger passes before any traffic (spec `evaluation`):
 * older data, slices, size and speed. Each gate is off unless the spec names it. Thresholds
 * follow TFMA's and MLflow's MetricThreshold: absolute bounds on the challenger's value, and the
 * least change against the champion, absolute or relative, in the metric's better direction (a
 * negative change is a loss the challenger is allowed).
 *
 * PURE module: imports only zod.
 */
import { z } from 'zod';

/** Metrics the gates compute on labelled rows: a classifier's accuracy and log loss, a regression model's RMSE and MAE. */
export const GATE_METRICS = ['accuracy', 'log_loss', 'rmse', 'mae'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];
export const CLASSIFIER_GATE_METRICS: readonly GateMetric[] = ['accuracy', 'log_loss'];

export const MetricThreshold = z
  .strictObject({
    metric: z.enum(GATE_METRICS),
    /** The challenger's value must be at least this (an absolute floor). */
    lowerBound: z.number().optional(),
    /** The challenger's value must be at most this (an absolute ceiling). */
    upperBound: z.number().optional(),
    /** Challenger minus champion, signed so that better is positive, must be at least this (e.g. -0.02: may lose 2 points). */
    minAbsoluteChange: z.number().optional(),
    /** The same change as a share of the champion's value (e.g. -0.05: may be 5% worse). */
    minRelativeChange: z.number().optional(),
    /** Whether larger values are better; by default true for accuracy, false for log_loss, rmse and mae. */
    greaterIsBetter: z.boolean().optional(),
  })
  .refine(
    (t) => [t.lowerBound, t.upperBound, t.minAbsoluteChange, t.minRelativeChange].some((v) => v !== undefined),
    'a threshold needs at least one of lowerBound, upperBound, minAbsoluteChange, minRelativeChange',
  );
export type MetricThreshold = z.infer<typeof MetricThreshold>;

/** Which older labelled records the challenger and the champion are both judged on. */
export const ReferenceData = z.discriminatedUnion('kind', [
  /** The records the champion was trained on: the period before its training window closed. */
  z.strictObject({ kind: z.literal('championTraining') }),
  /** A fixed "golden" set: the records imported under this source name (`perennial import --source`). */
  z.strictObject({ kind: z.literal('source'), source: z.string().min(1) }),
]);
export type ReferenceData = z.infer<typeof ReferenceData>;

export const OlderDataGate = z.strictObject({
  reference: ReferenceData.default({ kind: 'championTraining' }),
  /** At most this many reference records are evaluated (the most recent of them). */
  maxRows: z.number().int().positive().default(5000),
  /** Fewer reference records than this: the gate is skipped, and says so. */
  minRows: z.number().int().positive().default(30),
  /** Empty: the main metric may lose at most 0.02 accuracy (a classifier) or 5% RMSE (a regression model). */
  thresholds: z.array(MetricThreshold).default([]),
});

export const SliceGate = z.strictObject({
  /** Feature columns whose values define slices (a number column: its values as given). */
  columns: z.array(z.string().min(1)).min(1),
  /** Slices with fewer holdout rows than this are reported, not judged. */
  minRows: z.number().int().positive().default(30),
  /** Applied to every judged slice; empty: as for older data. */
  thresholds: z.array(MetricThreshold).default([]),
});

export const SizeGate = z.strictObject({
  maxParams: z.number().int().positive().optional(),
  /** Serialized size of the model's weights and topology. */
  maxBytes: z.number().int().positive().optional(),
  /** At most this many times the champion's parameter count. */
  maxRatioToChampion: z.number().positive().optional(),
});

export const SpeedGate = z.strictObject({
  /** Rows of the fixed batch whose prediction is timed (taken from the holdout, repeated if short). */
  batchRows: z.number().int().positive().default(64),
  /** Timed predictions of that batch, after warm-up ones. */
  repeats: z.number().int().min(5).default(50),
  maxP50Ms: z.number().positive().optional(),
  maxP99Ms: z.number().positive().optional(),
  /** At most this many times the champion's p50 and p99, both measured in the same activity. */
  maxSlowdown: z.number().positive().default(1.5),
});

/** The gates, each optional: `evaluation.olderData: {}` turns one on with its defaults. */
export const EvaluationGatesSpec = {
  olderData: OlderDataGate.optional(),
  slices: SliceGate.optional(),
  size: SizeGate.optional(),
  speed: SpeedGate.optional(),
};
