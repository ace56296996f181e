/**
 * Prediction over a row-major matrix: raw scores (base plus every tree of an output, added in
 * boosting order, the same additions training makes, so training rows score bit-identically),
 * the link applied, and gain importance.
 */
import { GbdtInputError } from './params.ts';
import type { Tree, TreeEnsemble } from './tree.ts';

/** Adds one tree's value at each row to scores[offset + i]. */
export function addTree(tree: Tree, x: Float32Array, nRows: number, nColumns: number, scores: Float64Array, offset: number): void {
  const { feature, threshold, missingLeft, left, right, value } = tree;
  if (feature[0] < 0) {
    // A tree without splits: every row gets its one value.
    for (let i = 0; i < nRows; i++) scores[offset + i] += value[0];
    return;
  }
  for (let i = 0; i < nRows; i++) {
    const row = i * nColumns;
    let node = 0;
    while (feature[node] >= 0) {
      const v = x[row + feature[node]];
      const goLeft = v <= threshold[node] || (v !== v && missingLeft[node] === 1);
      node = goLeft ? left[node] : right[node];
    }
    scores[offset + i] += value[node];
  }
}

function checkMatrix(ensemble: TreeEnsemble, x: Float32Array, nRows: number): void {
  if (!Number.isInteger(nRows) || nRows < 0) throw new GbdtInputError(`gbdt predict: nRows must be an integer >= 0, got ${nRows}`);
  if (!(x instanceof Float32Array)) throw new GbdtInputError('gbdt predict: x must be a Float32Array');
  if (x.length !== nRows * ensemble.nColumns) {
    throw new GbdtInputError(`gbdt predict: x has ${x.length} values, expected nRows * nColumns = ${nRows} * ${ensemble.nColumns}`);
  }
}

/** Output-major raw scores: scores[k * nRows + i]. */
export function rawScoresByOutput(ensemble: TreeEnsemble, x: Float32Array, nRows: number): Float64Array {
  const scores = new Float64Array(nRows * ensemble.nOutputs);
  for (let k = 0; k < ensemble.nOutputs; k++) {
    scores.fill(ensemble.base[k], k * nRows, (k + 1) * nRows);
    for (const tree of ensemble.trees[k]) addTree(tree, x, nRows, ensemble.nColumns, scores, k * nRows);
  }
  return scores;
}

/** Raw scores, row-major: out[i * nOutputs + k]. */
export function predictRaw(ensemble: TreeEnsemble, x: Float32Array, nRows: number): Float64Array {
  checkMatrix(ensemble, x, nRows);
  const byOutput = rawScoresByOutput(ensemble, x, nRows);
  const K = ensemble.nOutputs;
  if (K === 1) return byOutput;
  const out = new Float64Array(nRows * K);
  for (let k = 0; k < K; k++) for (let i = 0; i < nRows; i++) out[i * K + k] = byOutput[k * nRows + i];
  return out;
}

/** Predictions after the link: values (identity), P(positive class) (sigmoid) or class probabilities (softmax), row-major. */
export function predictOutput(ensemble: TreeEnsemble, x: Float32Array, nRows: number): Float64Array {
  return applyLink(ensemble, predictRaw(ensemble, x, nRows), nRows);
}

/** The ensemble's link applied, in place, to row-major raw scores of nRows rows. */
export function applyLink(ensemble: Pick<TreeEnsemble, 'link' | 'nOutputs'>, out: Float64Array, nRows: number): Float64Array {
  const K = ensemble.nOutputs;
  if (ensemble.link === 'sigmoid') {
    for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
  } else if (ensemble.link === 'softmax') {
    for (let i = 0; i < nRows; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, out[i * K + k]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += out[i * K + k] = Math.exp(out[i * K + k] - max);
      for (let k = 0; k < K; k++) out[i * K + k] /= sum;
    }
  }
  return out;
}

/** Per column, the summed gain of the splits on it (LightGBM's importance_type='gain'). */
export function gainImportance(ensemble: TreeEnsemble): Float64Array {
  const importance = new Float64Array(ensemble.nColumns);
  for (const trees of ensemble.trees) {
    for (const tree of trees) {
      for (let node = 0; node < tree.feature.length; node++) {
        if (tree.feature[node] >= 0) importance[tree.feature[node]] += tree.gain[node];
      }
    }
  }
  return importance;
}
