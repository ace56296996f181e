/**
 * The model spec: everything Perennial needs to know to keep one model fresh.
 * Users write it as YAML or JSON; it travels inside workflow arguments, so it stays small.
 * Pure module: imported by workflows, activities, client and serving alike.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { SweepSpec } from './search-space.ts';

const duration = z
  .union([z.string(), z.number()])
  .superRefine((value, ctx) => {
    try {
      parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

export const FeatureSpec = z.discriminatedUnion('type', [
  z.object({
    name: z.string().min(1),
    type: z.literal('number'),
    /** Valid range; values outside it fail data validation. */
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.object({
    name: z.string().min(1),
    type: z.literal('category'),
    /** Known categories: one-hot encoded; others are anomalies (encoded as all zeros). */
    values: z.array(z.string().min(1)).min(1),
  }),
]);

/** Features may omit `type`: numbers are the common case. */
const FeatureInput = z.preprocess((f) => (f && typeof f === 'object' && !('type' in f) ? { ...f, type: 'number' } : f), FeatureSpec);

/** A small default search: softmax regression and one-layer MLPs. */
const DEFAULT_FAMILIES = {
  softmax: { learningRate: { type: 'float', low: 0.005, high: 0.2, log: true } },
  mlp: {
    width: { type: 'int', low: 8, high: 64, log: true },
    learningRate: { type: 'float', low: 0.002, high: 0.05, log: true },
    dropout: { type: 'float', low: 0, high: 0.3 },
  },
} as const;

export const TrainingWindow = z.union([
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('lastRows'), rows: z.number().int().positive() }),
]);

export const PolicySpec = z.object({
  /** Fires when accuracy on labelled feedback falls below threshold (needs minLabels labels). */
  accuracyBelow: z.object({ threshold: z.number().min(0).max(1), minLabels: z.number().int().positive().default(30) }).optional(),
  /** Fires once this many new labelled records arrived since the last training. */
  newLabels: z.object({ count: z.number().int().positive() }).optional(),
  /** Kolmogorov-Smirnov drift on input features against the champion's reference profile. */
  drift: z
    .object({
      pValue: z.number().gt(0).lt(1).default(0.05),
      /** Share of features that must drift for the policy to fire. */
      minFeatureShare: z.number().gt(0).max(1).default(0.5),
      minRows: z.number().int().positive().default(100),
    })
    .optional(),
  /** Consecutive breaching monitoring cycles needed before a rule fires. */
  breachesToFire: z.number().int().positive().default(1),
  /** No policy-triggered retrain within this long after the previous one. */
  cooldown: duration.default('0s'),
});

export const ModelSpec = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'model names are lower-case letters, digits and dashes'),
  description: z.string().default(''),
  features: z.array(FeatureInput).min(1),
  /** Image-shaped inputs: the numeric features, in order, are the pixels of one image (row-major, channels last). */
  image: z.object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.number().int().positive() }).optional(),
  label: z.object({ name: z.string().min(1), classes: z.array(z.string().min(1)).min(2) }),
  training: z
    .object({
      window: TrainingWindow.default({ kind: 'all' }),
      holdoutFraction: z.number().gt(0).lt(1).default(0.2),
      /** The AutoML sweep that produces the challenger (core/search-space.ts). */
      sweep: SweepSpec.prefault({ families: DEFAULT_FAMILIES }),
    })
    .prefault({}),
  validation: z
    .object({
      minRows: z.number().int().positive().default(50),
      maxMissingFraction: z.number().min(0).max(1).default(0.05),
      /** Every class present in the snapshot needs at least this many rows, and at least two classes must appear. */
      minClassCount: z.number().int().nonnegative().default(2),
    })
    .prefault({}),
  monitoring: z
    .object({
      interval: duration.default('1m'),
      /** Most recent predictions compared with the reference profile. */
      windowRows: z.number().int().positive().default(500),
    })
    .prefault({}),
  policies: PolicySpec.prefault({}),
  /** Periodic retraining as a Temporal Schedule, e.g. "7d". */
  schedule: z.object({ every: duration }).optional(),
  evaluation: z
    .object({
      /** The challenger must beat the champion's holdout accuracy by at least this much. */
      minImprovement: z.number().min(-1).max(1).default(0),
    })
    .prefault({}),
  approval: z
    .object({
      required: z.boolean().default(true),
      timeout: duration.default('24h'),
      onTimeout: z.enum(['approve', 'reject']).default('reject'),
    })
    .prefault({}),
  canary: z
    .object({
      steps: z
        .array(z.object({ weight: z.number().gt(0).lt(1), bake: duration }))
        .default([{ weight: 0.2, bake: '2m' }]),
      /** Labelled canary predictions needed for a live verdict; fewer keeps the offline verdict. */
      minSamples: z.number().int().nonnegative().default(20),
      /** How far canary accuracy may fall below the champion's before rolling back. */
      tolerance: z.number().min(0).max(1).default(0.05),
    })
    .prefault({}),
});

export type ModelSpec = z.infer<typeof ModelSpec>;
export type FeatureSpec = z.infer<typeof FeatureSpec>;
export type ModelSpecInput = z.input<typeof ModelSpec>;
export type PolicySpec = z.infer<typeof PolicySpec>;
export type TrainingWindow = z.infer<typeof TrainingWindow>;

/** Readable, one line per problem: "policies.drift.pValue: Too big: expected number to be <1". */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}
