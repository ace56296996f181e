/**
 * Hyperparameters of the gbdt family, their defaults (LightGBM's, where LightGBM has the
 * parameter) and their validation. Names follow LightGBM's in camelCase.
 */

export interface GbdtParams {
  /** Leaves per tree at most (LightGBM num_leaves). */
  numLeaves: number;
  /** Depth limit; 0 = no limit (leaf-wise only; depth-wise growth needs a limit). */
  maxDepth: number;
  /** Shrinkage applied to every tree's leaf values. */
  learningRate: number;
  minDataInLeaf: number;
  minSumHessianInLeaf: number;
  lambdaL1: number;
  lambdaL2: number;
  /** A split must reduce the loss by more than this. */
  minGainToSplit: number;
  /** Share of columns each tree may split on (drawn per tree). */
  featureFraction: number;
  /** Share of rows each tree sees (drawn every baggingFreq rounds; 0 = never). */
  baggingFraction: number;
  baggingFreq: number;
  /** Bins per column at most, the missing-value bin included (LightGBM max_bin). */
  maxBins: number;
  /**
   * 'leafwise': best-first (LightGBM). 'depthwise': level by level down to maxDepth, every leaf
   * with a gainful split split (XGBoost hist); numLeaves still caps the leaves, a level's splits
   * then taken in order of gain.
   */
  growth: 'leafwise' | 'depthwise';
}

export const GBDT_DEFAULTS: GbdtParams = Object.freeze({
  numLeaves: 31,
  maxDepth: 0,
  learningRate: 0.1,
  minDataInLeaf: 20,
  minSumHessianInLeaf: 1e-3,
  lambdaL1: 0,
  lambdaL2: 0,
  minGainToSplit: 0,
  featureFraction: 1,
  baggingFraction: 1,
  baggingFreq: 0,
  maxBins: 255,
  growth: 'leafwise',
});

/** Bad parameters or training data: the message names the field. */
export class GbdtInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GbdtInputError';
  }
}

type Rule = (v: unknown) => string | undefined;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const intAtLeast =
  (min: number, max = Number.MAX_SAFE_INTEGER): Rule =>
  (v) =>
    isNum(v) && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : max < Number.MAX_SAFE_INTEGER
        ? `an integer in [${min}, ${max}]`
        : `an integer >= ${min}`;
const atLeast =
  (min: number): Rule =>
  (v) =>
    isNum(v) && v >= min ? undefined : `a finite number >= ${min}`;
const fraction: Rule = (v) => (isNum(v) && v > 0 && v <= 1 ? undefined : 'a number in (0, 1]');

const RULES: Record<keyof GbdtParams, Rule> = {
  numLeaves: intAtLeast(2),
  maxDepth: intAtLeast(0),
  learningRate: (v) => (isNum(v) && v > 0 ? undefined : 'a finite number > 0'),
  minDataInLeaf: intAtLeast(0),
  minSumHessianInLeaf: atLeast(0),
  lambdaL1: atLeast(0),
  lambdaL2: atLeast(0),
  minGainToSplit: atLeast(0),
  featureFraction: fraction,
  baggingFraction: fraction,
  baggingFreq: intAtLeast(0),
  // Bin indices are stored in 16 bits.
  maxBins: intAtLeast(2, 65535),
  growth: (v) => (v === 'leafwise' || v === 'depthwise' ? undefined : "'leafwise' or 'depthwise'"),
};

/** Throws GbdtInputError naming the first bad parameter; returns a frozen copy otherwise. */
export function validateParams(params: GbdtParams): GbdtParams {
  if (typeof params !== 'object' || params === null) throw new GbdtInputError(`gbdt params must be an object, got ${String(params)}`);
  for (const key of Object.keys(params)) {
    if (!(key in RULES)) throw new GbdtInputError(`gbdt.${key} is not a gbdt parameter (known: ${Object.keys(RULES).join(', ')})`);
  }
  for (const [key, rule] of Object.entries(RULES) as Array<[keyof GbdtParams, Rule]>) {
    const value = params[key];
    const need = rule(value);
    if (need) throw new GbdtInputError(`gbdt.${key} must be ${need}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  // LightGBM's own limit; the grower's per-leaf arrays are sized by it.
  if (params.numLeaves > 131072) throw new GbdtInputError(`gbdt.numLeaves must be at most 131072, got ${params.numLeaves}`);
  if (params.growth === 'depthwise' && params.maxDepth === 0) {
    throw new GbdtInputError("gbdt.maxDepth must be an integer >= 1 when gbdt.growth is 'depthwise', got 0");
  }
  return Object.freeze({ ...params });
}
