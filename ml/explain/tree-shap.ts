/**
 * Exact path-dependent Tree SHAP (Lundberg, Erion & Lee 2018, "Consistent individualized
 * feature attribution for tree ensembles", Algorithm 2): the Shapley values of the value function
 * v(S) = E[f(x) | x_S], where the expectation follows x at splits on features in S and otherwise
 * averages both children weighted by the training rows through them (`cover`). Polynomial time:
 * O(leaves x depth^2) per tree, against 2^columns for the same values by brute force.
 *
 * Everything is in raw score (margin) space, per output: for output k,
 * expected[k] + sum over columns of phi[k][c] = base[k] + sum of trees[k] at the row, exactly
 * (up to rounding). A link (sigmoid, softmax) is not additive, so attributions stay before it.
 *
 * The algorithm walks every root-to-leaf path once, keeping for the path so far the set of
 * distinct features it split on ("unique path"), each with the fraction of the zero (feature
 * not in S: cover-weighted) and one (feature in S: follows x) cases that reach here, and the
 * permutation weights of every subset size. EXTEND adds a feature to the path; UNWIND removes one
 * (a feature split on twice along a path is counted once, by unwinding its first occurrence).
 */
import type { Tree, TreeEnsemble } from '../gbdt/tree.ts';

export interface TreeShapValues {
  /** phi[k][c]: the attribution of input column c to output k's raw score. */
  phi: Float64Array[];
  /** Per output: base[k] plus each tree's cover-weighted mean output (E[f] over the training rows). */
  expected: Float64Array;
}

/** Tree SHAP values of one row (one value per input column; NaN is a missing value, routed by missingLeft). */
export function treeShap(ensemble: TreeEnsemble, row: ArrayLike<number>): TreeShapValues {
  if (row.length < ensemble.nColumns)
    throw new RangeError(`treeShap: the row has ${row.length} columns, the trees read ${ensemble.nColumns}`);
  const phi = Array.from({ length: ensemble.nOutputs }, () => new Float64Array(ensemble.nColumns));
  for (let k = 0; k < ensemble.nOutputs; k++) for (const tree of ensemble.trees[k]) addTreeShap(tree, row, phi[k]);
  return { phi, expected: expectedValues(ensemble) };
}

/** Per output, the raw score's mean over the training rows as the covers record them. */
export function expectedValues(ensemble: TreeEnsemble): Float64Array {
  const out = Float64Array.from(ensemble.base);
  for (let k = 0; k < ensemble.nOutputs; k++) for (const tree of ensemble.trees[k]) out[k] += meanOutput(tree, 0);
  return out;
}

/** The share of a node's cover that went to `child` (an empty node splits evenly: it is never reached by the data). */
export function coverFraction(tree: Tree, node: number, child: number): number {
  const total = tree.cover[node];
  return total > 0 ? tree.cover[child] / total : 0.5;
}

/** The cover-weighted mean of the leaves below `node`: E[f] with no feature known. */
function meanOutput(tree: Tree, node: number): number {
  if (tree.feature[node] < 0) return tree.value[node];
  const left = tree.left[node];
  const right = tree.right[node];
  return coverFraction(tree, node, left) * meanOutput(tree, left) + coverFraction(tree, node, right) * meanOutput(tree, right);
}

function depthOf(tree: Tree, node: number): number {
  if (tree.feature[node] < 0) return 0;
  return 1 + Math.max(depthOf(tree, tree.left[node]), depthOf(tree, tree.right[node]));
}

/**
 * Adds one tree's Tree SHAP values of `row` to `phi`. The unique paths of all recursion levels
 * share flat arrays: the call at path length d owns d + 1 slots after its parent's, so a child
 * starts from a copy of its parent's path and the parent's stays intact for the other child.
 */
function addTreeShap(tree: Tree, row: ArrayLike<number>, phi: Float64Array): void {
  const maxDepth = depthOf(tree, 0) + 1; // unique path length, the root's placeholder included
  const size = ((maxDepth + 1) * (maxDepth + 2)) / 2;
  const feature = new Int32Array(size);
  const zero = new Float64Array(size); // fraction of the "feature not in S" cases flowing through
  const one = new Float64Array(size); // 1 when x itself flows through (feature in S), else 0
  const weight = new Float64Array(size); // permutation weight of each subset size

  /** Adds a feature with its zero and one fractions to the path at [s, s + d) (now [s, s + d]). */
  const extend = (s: number, d: number, pZero: number, pOne: number, pFeature: number) => {
    feature[s + d] = pFeature;
    zero[s + d] = pZero;
    one[s + d] = pOne;
    weight[s + d] = d === 0 ? 1 : 0;
    for (let i = d - 1; i >= 0; i--) {
      weight[s + i + 1] += (pOne * weight[s + i] * (i + 1)) / (d + 1);
      weight[s + i] = (pZero * weight[s + i] * (d - i)) / (d + 1);
    }
  };

  /** Removes path element k from the path at [s, s + d], undoing its extend (leaves [s, s + d)). */
  const unwind = (s: number, d: number, k: number) => {
    const o = one[s + k];
    const z = zero[s + k];
    let next = weight[s + d];
    for (let i = d - 1; i >= 0; i--) {
      if (o !== 0) {
        const previous = weight[s + i];
        weight[s + i] = (next * (d + 1)) / ((i + 1) * o);
        next = previous - (weight[s + i] * z * (d - i)) / (d + 1);
      } else {
        weight[s + i] = (weight[s + i] * (d + 1)) / (z * (d - i));
      }
    }
    for (let i = k; i < d; i++) {
      feature[s + i] = feature[s + i + 1];
      zero[s + i] = zero[s + i + 1];
      one[s + i] = one[s + i + 1];
    }
  };

  /** The total weight the path would have without element k: unwind's sum, without changing the path. */
  const unwoundSum = (s: number, d: number, k: number) => {
    const o = one[s + k];
    const z = zero[s + k];
    let next = weight[s + d];
    let total = 0;
    for (let i = d - 1; i >= 0; i--) {
      if (o !== 0) {
        const w = (next * (d + 1)) / ((i + 1) * o);
        total += w;
        next = weight[s + i] - (w * z * (d - i)) / (d + 1);
      } else {
        total += (weight[s + i] * (d + 1)) / (z * (d - i));
      }
    }
    return total;
  };

  const copyPath = (from: number, to: number, length: number) => {
    feature.copyWithin(to, from, from + length);
    zero.copyWithin(to, from, from + length);
    one.copyWithin(to, from, from + length);
    weight.copyWithin(to, from, from + length);
  };

  const recurse = (node: number, s: number, d: number, pZero: number, pOne: number, pFeature: number): void => {
    extend(s, d, pZero, pOne, pFeature);
    const split = tree.feature[node];
    if (split < 0) {
      // Element 0 is the root's placeholder, not a feature.
      for (let i = 1; i <= d; i++) phi[feature[s + i]] += unwoundSum(s, d, i) * (one[s + i] - zero[s + i]) * tree.value[node];
      return;
    }
    const x = row[split];
    const goesLeft = Number.isNaN(x) ? tree.missingLeft[node] === 1 : x <= tree.threshold[node];
    const [hot, cold] = goesLeft ? [tree.left[node], tree.right[node]] : [tree.right[node], tree.left[node]];
    // A feature split on again: its earlier fractions carry over and its element leaves the path.
    let inZero = 1;
    let inOne = 1;
    for (let i = 1; i <= d; i++) {
      if (feature[s + i] !== split) continue;
      inZero = zero[s + i];
      inOne = one[s + i];
      unwind(s, d, i);
      d--;
      break;
    }
    const child = s + d + 1;
    const hotZero = coverFraction(tree, node, hot) * inZero;
    const coldZero = coverFraction(tree, node, cold) * inZero;
    // A branch that neither case reaches adds nothing (and its weights would divide by zero).
    if (hotZero !== 0 || inOne !== 0) {
      copyPath(s, child, d + 1);
      recurse(hot, child, d + 1, hotZero, inOne, split);
    }
    if (coldZero !== 0) {
      copyPath(s, child, d + 1);
      recurse(cold, child, d + 1, coldZero, 0, split);
    }
  };

  recurse(0, 0, 0, 1, 1, -1);
}
