/**
 * Model architectures of the families of core/search-space.ts (softmax, mlp, cnn), their
 * hyperparameters with defaults, and their optimisers.
 *
 * Every model takes the flat [batch, nInputs] matrix of ml/preprocess.ts (the cnn reshapes it
 * itself), ends in a dense softmax over nClasses, and is compiled with categorical cross-entropy,
 * so all three save and load the same way (ml/bundle.ts).
 */
import { FAMILIES, FAMILY_PARAMS, type Family, type ParamValue, type ModelConfig } from '../core/search-space.ts';
import type { Tf } from './backend.ts';
import type { ImageShape } from './preprocess.ts';
import type { GbdtParams } from './gbdt/booster.ts';
import { resolveGbdtParams } from './gbdt/config.ts';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type Optimizer = import('@tensorflow/tfjs').Optimizer;

export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';
export type Activation = 'relu' | 'tanh' | 'elu';
export const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'sgd', 'rmsprop'];
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'elu'];

interface Common {
  learningRate: number;
  l2: number;
  batchSize: number;
  optimizer: OptimizerName;
}
export type SoftmaxParams = Common;
export interface MlpParams extends Common {
  depth: number;
  width: number;
  activation: Activation;
  dropout: number;
}
export interface CnnParams extends Common {
  filters: number;
  kernelSize: number;
  dense: number;
  dropout: number;
}
export type ResolvedConfig =
  | { family: 'softmax'; params: SoftmaxParams }
  | { family: 'mlp'; params: MlpParams }
  | { family: 'cnn'; params: CnnParams }
  | { family: 'gbdt'; params: GbdtParams };
/** The configuration of a network (the families this file builds). */
export type NetworkConfig = Exclude<ResolvedConfig, { family: 'gbdt' }>;

/**
 * Values of the hyperparameters a trial does not set. Chosen as sound starting points on small
 * tabular data (softmax, mlp: the former default candidates of the spec) and on small images
 * (cnn: measured on the 8x8 digits, see test/ml/train.test.ts).
 * - optimizer: Adam (tfjs defaults beta1 0.9, beta2 0.999, epsilon 1e-7); 'sgd' is plain SGD
 *   without momentum; 'rmsprop' uses tfjs defaults (decay 0.9, momentum 0, not centered).
 * - l2: penalty l2 * sum(w^2) on every kernel (never on biases); 0 = none.
 * - dropout: rate after each mlp hidden layer / after the cnn dense layer; 0 = no dropout layer.
 */
export const FAMILY_DEFAULTS = {
  softmax: { learningRate: 0.05, l2: 0, batchSize: 64, optimizer: 'adam' },
  mlp: { depth: 1, width: 32, activation: 'relu', dropout: 0, l2: 0, batchSize: 64, learningRate: 0.01, optimizer: 'adam' },
  cnn: { filters: 8, kernelSize: 3, dense: 64, dropout: 0.25, l2: 0, batchSize: 32, learningRate: 0.005, optimizer: 'adam' },
} as const satisfies { softmax: SoftmaxParams; mlp: MlpParams; cnn: CnnParams };

/**
 * Fills in family defaults and checks every value: unknown families or parameter names, wrong
 * types and out-of-range values throw an Error naming the parameter. Numeric parameters accept
 * numbers or numeric strings (a categorical search dimension may yield either).
 */
export function resolveConfig(config: ModelConfig): ResolvedConfig {
  const family = config?.family as Family;
  if (!(FAMILIES as readonly string[]).includes(family)) {
    throw new Error(`Unknown model family "${String(family)}"; use one of ${FAMILIES.join(', ')}`);
  }
  const params = config.params ?? {};
  for (const name of Object.keys(params)) {
    if (!FAMILY_PARAMS[family].includes(name)) {
      throw new Error(`${family} has no hyperparameter "${name}" (it has ${FAMILY_PARAMS[family].join(', ')})`);
    }
  }
  if (family === 'gbdt') return { family, params: resolveGbdtParams(params) };
  const defaults: Record<string, ParamValue> = FAMILY_DEFAULTS[family];
  const get = (name: string): ParamValue => params[name] ?? defaults[name];
  const num = (name: string, ok: (v: number) => boolean, rule: string): number => {
    const raw = get(name);
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(v) || !ok(v)) throw new Error(`${family}.${name} must be ${rule}, got ${JSON.stringify(raw)}`);
    return v;
  };
  const int = (name: string, min: number) => num(name, (v) => Number.isInteger(v) && v >= min, `an integer >= ${min}`);
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const raw = get(name);
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      throw new Error(`${family}.${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw as T;
  };
  const common: Common = {
    learningRate: num('learningRate', (v) => v > 0, 'a number > 0'),
    l2: num('l2', (v) => v >= 0, 'a number >= 0'),
    batchSize: int('batchSize', 1),
    optimizer: oneOf('optimizer', OPTIMIZERS),
  };
  const dropout = () => num('dropout', (v) => v >= 0 && v < 1, 'in [0, 1)');
  switch (family) {
    case 'softmax':
      return { family, params: common };
    case 'mlp':
      return {
        family,
        params: {
          ...common,
          depth: int('depth', 1),
          width: int('width', 1),
          activation: oneOf('activation', ACTIVATIONS),
          dropout: dropout(),
        },
      };
    case 'cnn':
      return {
        family,
        params: { ...common, filters: int('filters', 1), kernelSize: int('kernelSize', 1), dense: int('dense', 1), dropout: dropout() },
      };
  }
}

/** A fresh optimiser for the resolved parameters. */
export function createOptimizer(tf: Tf, params: Common): Optimizer {
  switch (params.optimizer) {
    case 'adam':
      return tf.train.adam(params.learningRate);
    case 'sgd':
      return tf.train.sgd(params.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(params.learningRate);
  }
}

/** Distinct, reproducible seeds from integers (any sign or size). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Fold in the high bits of large seeds too.
    h = Math.imul(h ^ Math.floor(p / 4294967296), 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** buildModel's output for a regression model: one linear unit. */
export const REGRESSION = 'regression';

/**
 * Builds and compiles a model over `input.nInputs` encoded inputs: a classifier with `nClasses`
 * softmax outputs, or with `REGRESSION` a regression model whose last layer is one linear unit
 * (the "dense softmax" below is then that unit, compiled with mean squared error):
 * - softmax: one dense softmax layer (multinomial logistic regression);
 * - mlp: `depth` dense hidden layers of `width` units with `activation`, each followed by
 *   Dropout(`dropout`) when dropout > 0, then the dense softmax;
 * - cnn (needs `input.image`, and nInputs = height*width*channels, i.e. no category features):
 *   reshape -> conv2d(filters, kernelSize, relu, 'same') -> maxPool 2 -> conv2d(2*filters,
 *   kernelSize, relu, 'same') -> maxPool 2 -> flatten -> dense(dense, relu) -> Dropout(dropout)
 *   -> dense softmax. Pools use 'same' padding so small images never shrink to nothing.
 * Kernels use Glorot-uniform initialisers seeded from `seed` (one derived seed per layer), biases
 * start at zero, every kernel (dense and conv) gets L2(l2) when l2 > 0. Dropout layers get a
 * derived seed too; training (ml/train.ts) re-seeds them per batch step, because tfjs draws the
 * same mask on every call for a fixed seed. Compiled with the family's optimiser
 * (createOptimizer), categorical cross-entropy and accuracy.
 */
export function buildModel(
  tf: Tf,
  config: ModelConfig,
  input: { nInputs: number; image?: ImageShape },
  nClasses: number | typeof REGRESSION,
  seed: number,
): LayersModel {
  const resolved = resolveConfig(config);
  if (resolved.family === 'gbdt') throw new Error('buildModel: gbdt is not a network (ml/gbdt/trial.ts trains it)');
  const { nInputs, image } = input;
  const regression = nClasses === REGRESSION;
  if (!(Number.isInteger(nInputs) && nInputs > 0) || !(regression || (Number.isInteger(nClasses) && nClasses >= 2))) {
    throw new Error(`buildModel: need nInputs > 0 and nClasses >= 2 (got ${nInputs}, ${nClasses})`);
  }
  const { l2 } = resolved.params;
  const kernelRegularizer = () => (l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined);
  let layerIndex = 0;
  const init = () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeed(seed, layerIndex++) }),
    biasInitializer: 'zeros' as const,
    kernelRegularizer: kernelRegularizer(),
  });
  const dropoutLayer = (rate: number) => tf.layers.dropout({ rate, seed: mixSeed(seed, 1000 + layerIndex++), ...named('dropout') });
  // Fixed layer names: tfjs numbers unnamed layers per thread, so a warm training thread
  // (ml/training-threads.ts) would otherwise save a differently named model each time.
  let layerCount = 0;
  const named = (kind: string) => ({ name: `${kind}_${++layerCount}` });

  const model = tf.sequential({ name: 'perennial' });
  if (resolved.family === 'mlp') {
    const p = resolved.params;
    for (let i = 0; i < p.depth; i++) {
      model.add(
        tf.layers.dense({
          units: p.width,
          activation: p.activation,
          ...named('dense'),
          ...(i === 0 ? { inputShape: [nInputs] } : {}),
          ...init(),
        }),
      );
      if (p.dropout > 0) model.add(dropoutLayer(p.dropout));
    }
  } else if (resolved.family === 'cnn') {
    const p = resolved.params;
    if (!image) throw new Error('buildModel: the cnn family needs an image spec (image: {height, width, channels})');
    const { height, width, channels } = image;
    if (height * width * channels !== nInputs) {
      throw new Error(
        `buildModel: the cnn needs exactly the ${height}x${width}x${channels} = ${height * width * channels} pixel inputs, got ${nInputs} (category features cannot feed a cnn)`,
      );
    }
    model.add(tf.layers.reshape({ targetShape: [height, width, channels], inputShape: [nInputs], ...named('reshape') }));
    model.add(
      tf.layers.conv2d({
        filters: p.filters,
        ...named('conv2d'),
        kernelSize: p.kernelSize,
        activation: 'relu',
        padding: 'same',
        ...init(),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', ...named('max_pooling2d') }));
    model.add(
      tf.layers.conv2d({
        filters: 2 * p.filters,
        ...named('conv2d'),
        kernelSize: p.kernelSize,
        activation: 'relu',
        padding: 'same',
        ...init(),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', ...named('max_pooling2d') }));
    model.add(tf.layers.flatten(named('flatten')));
    model.add(tf.layers.dense({ units: p.dense, activation: 'relu', ...named('dense'), ...init() }));
    if (p.dropout > 0) model.add(dropoutLayer(p.dropout));
  }
  const head = regression ? { units: 1, activation: 'linear' as const } : { units: nClasses, activation: 'softmax' as const };
  model.add(tf.layers.dense({ ...head, ...named('dense'), ...(model.layers.length === 0 ? { inputShape: [nInputs] } : {}), ...init() }));
  model.compile(
    regression
      ? { optimizer: createOptimizer(tf, resolved.params), loss: 'meanSquaredError' }
      : { optimizer: createOptimizer(tf, resolved.params), loss: 'categoricalCrossentropy', metrics: ['accuracy'] },
  );
  return model;
}
