/**
 * One regression tree of a gradient-boosted ensemble, as parallel typed arrays over its nodes
 * (node 0 is the root). Training (ml/gbdt/) writes it, prediction walks it, Tree SHAP
 * (ml/explain/) reads its covers. Thresholds are raw feature values, not bin indices, so a tree
 * predicts without the training bins.
 */
export interface Tree {
  /** Split feature (a column of the model's input matrix) of an internal node; -1 marks a leaf. */
  feature: Int32Array;
  /** An internal node sends x to `left` when x <= threshold, else to `right`. */
  threshold: Float64Array;
  /** 1 when a missing value (NaN) goes left at this node, 0 when it goes right. */
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** A leaf's output, shrinkage (learning rate) already applied; 0 for internal nodes. */
  value: Float64Array;
  /** Training rows that reached the node (Tree SHAP weighs paths by it). */
  cover: Float64Array;
  /** Loss reduction of an internal node's split; 0 for leaves (gain importance sums it). */
  gain: Float64Array;
}

/** The leaf a row (one value per input column) reaches. */
export function leafOf(tree: Tree, row: ArrayLike<number>): number {
  let node = 0;
  while (tree.feature[node] >= 0) {
    const x = row[tree.feature[node]];
    const goLeft = Number.isNaN(x) ? tree.missingLeft[node] === 1 : x <= tree.threshold[node];
    node = goLeft ? tree.left[node] : tree.right[node];
  }
  return node;
}

export function predictTree(tree: Tree, row: ArrayLike<number>): number {
  return tree.value[leafOf(tree, row)];
}

/**
 * A boosted ensemble as prediction and explanation see it: raw scores per output are
 * base[k] + the sum of trees[k] at the row, then `link` turns them into the prediction.
 */
export interface TreeEnsemble {
  /** 1 for regression and binary classification (the positive class's log-odds), else one per class. */
  nOutputs: number;
  /** trees[k] are the trees of output k, in boosting order. */
  trees: Tree[][];
  /** The raw score every row starts from (LightGBM's boost_from_average), per output. */
  base: Float64Array;
  link: 'identity' | 'sigmoid' | 'softmax';
  /** Columns of the input matrix the trees read. */
  nColumns: number;
}

/** Raw scores (before the link) of one row, one per output. */
export function rawScores(ensemble: TreeEnsemble, row: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(ensemble.base);
  for (let k = 0; k < ensemble.nOutputs; k++) {
    for (const tree of ensemble.trees[k]) out[k] += predictTree(tree, row);
  }
  return out;
}
