/** The search spaces the automl benchmark's sweeps search (bench/automl/index.ts, quality.ts). */
import type { SweepSettings } from './harness.ts';

/** Softmax regression and small MLPs (with GBDT_SPACE, the full space of the quality section). */
export const SPACE: SweepSettings['families'] = {
  softmax: {
    learningRate: { type: 'float', low: 0.003, high: 0.3, log: true },
    l2: { type: 'float', low: 1e-6, high: 1e-2, log: true },
    batchSize: { type: 'categorical', values: [32, 64, 128] },
  },
  mlp: {
    depth: { type: 'int', low: 1, high: 2 },
    width: { type: 'int', low: 8, high: 128, log: true },
    activation: { type: 'categorical', values: ['relu', 'tanh', 'elu'] },
    dropout: { type: 'float', low: 0, high: 0.4 },
    l2: { type: 'float', low: 1e-6, high: 1e-2, log: true },
    learningRate: { type: 'float', low: 0.001, high: 0.03, log: true },
    batchSize: { type: 'categorical', values: [32, 64, 128] },
  },
};

/**
 * Gradient-boosted trees over the ranges the tuned LightGBM anchor searches
 * (bench/automl/tuned_reference.py): rounds are not searched, they are the rungs (10 per epoch).
 */
export const GBDT_SPACE: NonNullable<SweepSettings['families']['gbdt']> = {
  learningRate: { type: 'float', low: 0.01, high: 0.3, log: true },
  numLeaves: { type: 'int', low: 4, high: 128, log: true },
  minDataInLeaf: { type: 'int', low: 2, high: 100, log: true },
  lambdaL2: { type: 'float', low: 0.001, high: 10, log: true },
  featureFraction: { type: 'float', low: 0.5, high: 1 },
  baggingFraction: { type: 'float', low: 0.5, high: 1 },
  baggingFreq: { type: 'categorical', values: [1] },
};

/**
 * The Perennial sweeps the quality section runs on every task, one per entry, each over the
 * families it names. The first is the headline (`perennial`, `perennialMinusBestTuned` in
 * bench/results/automl.json); the others are reported beside it (`otherSpaces`, empty when none). A new family
 * joins as a space of its own (e.g. `gbdt: { gbdt: {...} }`, "the family alone") and in `full`
 * (the whole search space). Each space adds its sweeps' time to the run (see QUALITY_TASKS).
 */
export const QUALITY_SPACES: Record<string, SweepSettings['families']> = {
  full: { ...SPACE, gbdt: GBDT_SPACE },
  gbdt: { gbdt: GBDT_SPACE },
};
