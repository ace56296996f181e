/**
 * Losses as LightGBM 4 defines them: their starting scores (boost_from_average) and the
 * per-row gradients and hessians each round fits a tree to. Gradients are kept in 32-bit floats,
 * as LightGBM keeps them (score_t); scores in 64-bit.
 */
import type { TreeEnsemble } from './tree.ts';

/** LightGBM's kEpsilon (1e-15f). */
export const K_EPSILON = Math.fround(1e-15);

export interface Objective {
  nOutputs: number;
  link: TreeEnsemble['link'];
  /** The raw score every row starts from, per output. */
  base(target: Float64Array, weights: Float64Array | undefined): Float64Array;
  /** Outputs that can learn anything (LightGBM trains no trees for a class absent from training). */
  trains(target: Float64Array, weights: Float64Array | undefined): boolean[];
  /** grad[k][i], hess[k][i] from scores[k * nRows + i]. */
  gradients(
    scores: Float64Array,
    target: Float64Array,
    weights: Float64Array | undefined,
    grad: Float32Array[],
    hess: Float32Array[],
  ): void;
  /** The mean loss the gradients descend (squared error, log loss), from scores[k * nRows + i]. */
  loss(scores: Float64Array, target: Float64Array): number;
}

/** log(1 + exp(z)) without overflow. */
const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/** LightGBM adds no starting score smaller than kEpsilon. */
const startAt = (score: number): number => (Math.abs(score) > K_EPSILON ? score : 0);

function classShares(target: Float64Array, weights: Float64Array | undefined, nClasses: number): Float64Array {
  const shares = new Float64Array(nClasses);
  let total = 0;
  for (let i = 0; i < target.length; i++) {
    const w = weights ? weights[i] : 1;
    shares[target[i]] += w;
    total += w;
  }
  for (let k = 0; k < nClasses; k++) shares[k] /= total;
  return shares;
}

const squaredError: Objective = {
  nOutputs: 1,
  link: 'identity',
  base(target, weights) {
    let sum = 0;
    let total = 0;
    for (let i = 0; i < target.length; i++) {
      const w = weights ? weights[i] : 1;
      sum += target[i] * w;
      total += w;
    }
    return Float64Array.of(startAt(sum / total));
  },
  trains: () => [true],
  gradients(scores, target, weights, [grad], [hess]) {
    for (let i = 0; i < target.length; i++) {
      const w = weights ? weights[i] : 1;
      grad[i] = (scores[i] - target[i]) * w;
      hess[i] = w;
    }
  },
  loss(scores, target) {
    let sum = 0;
    for (let i = 0; i < target.length; i++) sum += (scores[i] - target[i]) ** 2;
    return sum / target.length;
  },
};

const binaryLogLoss: Objective = {
  nOutputs: 1,
  link: 'sigmoid',
  base(target, weights) {
    const p = Math.min(Math.max(classShares(target, weights, 2)[1], K_EPSILON), 1 - K_EPSILON);
    return Float64Array.of(startAt(Math.log(p / (1 - p))));
  },
  trains(target, weights) {
    const p = classShares(target, weights, 2)[1];
    return [p > K_EPSILON && p < 1 - K_EPSILON];
  },
  gradients(scores, target, weights, [grad], [hess]) {
    for (let i = 0; i < target.length; i++) {
      const label = target[i] === 1 ? 1 : -1;
      const response = -label / (1 + Math.exp(label * scores[i]));
      const abs = Math.abs(response);
      const w = weights ? weights[i] : 1;
      grad[i] = response * w;
      hess[i] = abs * (1 - abs) * w;
    }
  },
  loss(scores, target) {
    let sum = 0;
    for (let i = 0; i < target.length; i++) sum += softplus(target[i] === 1 ? -scores[i] : scores[i]);
    return sum / target.length;
  },
};

function softmax(nClasses: number): Objective {
  // LightGBM scales the softmax hessian by K / (K - 1).
  const factor = nClasses / (nClasses - 1);
  return {
    nOutputs: nClasses,
    link: 'softmax',
    base(target, weights) {
      const shares = classShares(target, weights, nClasses);
      return shares.map((p) => startAt(Math.log(Math.max(K_EPSILON, p))));
    },
    trains(target, weights) {
      return Array.from(classShares(target, weights, nClasses), (p) => p > K_EPSILON && p < 1 - K_EPSILON);
    },
    gradients(scores, target, weights, grad, hess) {
      const n = target.length;
      const p = new Float64Array(nClasses);
      for (let i = 0; i < n; i++) {
        let max = scores[i];
        for (let k = 1; k < nClasses; k++) max = Math.max(max, scores[k * n + i]);
        let sum = 0;
        for (let k = 0; k < nClasses; k++) {
          p[k] = Math.exp(scores[k * n + i] - max);
          sum += p[k];
        }
        const w = weights ? weights[i] : 1;
        for (let k = 0; k < nClasses; k++) {
          const pk = p[k] / sum;
          grad[k][i] = (target[i] === k ? pk - 1 : pk) * w;
          hess[k][i] = factor * pk * (1 - pk) * w;
        }
      }
    },
    loss(scores, target) {
      const n = target.length;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        let max = scores[i];
        for (let k = 1; k < nClasses; k++) max = Math.max(max, scores[k * n + i]);
        let total = 0;
        for (let k = 0; k < nClasses; k++) total += Math.exp(scores[k * n + i] - max);
        sum += max + Math.log(total) - scores[target[i] * n + i];
      }
      return sum / n;
    },
  };
}

/** 0 classes: squared error; 2: binary log loss; more: softmax. */
export function objectiveFor(nClasses: number): Objective {
  if (nClasses === 0) return squaredError;
  if (nClasses === 2) return binaryLogLoss;
  return softmax(nClasses);
}
