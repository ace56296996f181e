/**
 * The AutoML search space and sweep settings of a model spec, and the shape of one trial's
 * configuration. Pure: samplers run inside the sweep workflow. The spec's schemas are in
 * sweep-spec.ts, out of the workflow bundle (see spec-reading.ts).
 */
export type { ParamSpec, SweepSpec } from './sweep-spec.ts';

/**
 * The families of ml/model.ts (networks) and ml/gbdt/ (gradient-boosted trees); each family's
 * parameters are conditional on choosing it. New families go last: samplers and grids walk them
 * in this order.
 */
export const FAMILIES = ['softmax', 'mlp', 'cnn', 'gbdt'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Not a model family but a sweep option: the champion's architecture, continued from its weights
 * on the new window. Its trials compete with the families' (same rungs, split and objective).
 */
export const WARM_START = 'warmStart';
/** What a sweep samples from: the families, then warmStart (this order keeps older sweeps' draws). */
export const SWEEP_FAMILIES = [...FAMILIES, WARM_START] as const;
export type SweepFamily = (typeof SWEEP_FAMILIES)[number];
/** A warm start keeps everything of the champion but how it is fine-tuned. */
export const WARM_START_PARAMS: readonly string[] = ['learningRate', 'batchSize', 'optimizer'];

/** Hyperparameters a family understands; anything not searched takes the family default. */
export const FAMILY_PARAMS: Record<Family, readonly string[]> = {
  softmax: ['learningRate', 'l2', 'batchSize', 'optimizer'],
  mlp: ['depth', 'width', 'activation', 'dropout', 'l2', 'batchSize', 'learningRate', 'optimizer'],
  cnn: ['filters', 'kernelSize', 'dense', 'dropout', 'l2', 'batchSize', 'learningRate', 'optimizer'],
  gbdt: [
    'growth',
    'numLeaves',
    'maxDepth',
    'learningRate',
    'minDataInLeaf',
    'minSumHessianInLeaf',
    'lambdaL1',
    'lambdaL2',
    'minGainToSplit',
    'featureFraction',
    'baggingFraction',
    'baggingFreq',
    'maxBins',
  ],
};

/**
 * Boosting rounds per epoch of a gbdt trial: sweeps budget and halve in epochs, so a gbdt rung at
 * epoch 3 has 30 rounds of trees (one tree per output per round), and the next rung boosts on
 * from those trees.
 */
export const GBDT_ROUNDS_PER_EPOCH = 10;

/** Objectives of a regression model's sweep (a regression spec defaults to val_rmse, minimize). */
export const REGRESSION_OBJECTIVES = ['val_rmse', 'val_mae'] as const;

export type ParamValue = string | number | boolean;

/** A model's configuration: a family of ml/model.ts and values for (some of) its hyperparameters. */
export interface ModelConfig {
  family: Family;
  params: Record<string, ParamValue>;
}

/**
 * One trial's configuration: a family and its hyperparameters, or a warm start (its params are
 * the fine-tuning settings; `from`, the champion version whose model it continues, is added by
 * the sweep loop: samplers never see it).
 */
export interface TrialConfig {
  family: SweepFamily;
  params: Record<string, ParamValue>;
  from?: string;
}

/** "mlp depth=2 width=32 learningRate=0.01", "warmStart from v3 learningRate=0.001": a trial's configuration in one line. */
export function describeConfig(config: TrialConfig): string {
  const params = Object.entries(config.params).map(
    ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v}`,
  );
  const family = config.family === WARM_START ? `${WARM_START} from v${config.from}` : config.family;
  return [family, ...params].join(' ');
}
