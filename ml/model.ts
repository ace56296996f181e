/**
 * Model architectures for the candidate families of core/spec.ts.
 */
import type { CandidateSpec } from '../core/spec.ts';
import type { Tf } from './backend.ts';

type LayersModel = import('@tensorflow/tfjs').LayersModel;

/**
 * Builds and compiles a classifier over nFeatures standardised inputs and nClasses outputs:
 * - softmax: one dense softmax layer (multinomial logistic regression);
 * - mlp: dense hidden layers (candidate.hidden units each, candidate.activation), then softmax.
 * Kernels use Glorot-uniform initialisers seeded from `seed` (one derived seed per layer), biases
 * start at zero, and every kernel gets an L2 penalty when candidate.l2 > 0. Compiled with
 * Adam(candidate.learningRate), categorical cross-entropy and accuracy.
 */
export function buildModel(
  tf: Tf,
  candidate: CandidateSpec,
  nFeatures: number,
  nClasses: number,
  seed: number,
): LayersModel {
  if (!(nFeatures > 0) || !(nClasses >= 2)) {
    throw new Error(`buildModel: need nFeatures > 0 and nClasses >= 2 (got ${nFeatures}, ${nClasses})`);
  }
  const hidden = candidate.family === 'mlp' ? candidate.hidden : [];
  if (candidate.family === 'mlp' && hidden.length === 0) {
    throw new Error('buildModel: an mlp candidate needs at least one hidden layer');
  }
  const regularizer = candidate.l2 > 0 ? () => tf.regularizers.l2({ l2: candidate.l2 }) : () => undefined;
  // Distinct but reproducible seeds per layer (the seed may be any integer).
  const layerSeed = (i: number) => (Math.imul(seed | 0, 2654435761) + i * 40503 + 1) >>> 0;

  const model = tf.sequential();
  hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: candidate.activation,
        inputShape: i === 0 ? [nFeatures] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(i) }),
        biasInitializer: 'zeros',
        kernelRegularizer: regularizer(),
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: nClasses,
      activation: 'softmax',
      inputShape: hidden.length === 0 ? [nFeatures] : undefined,
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(hidden.length) }),
      biasInitializer: 'zeros',
      kernelRegularizer: regularizer(),
    }),
  );
  model.compile({
    optimizer: tf.train.adam(candidate.learningRate),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}
