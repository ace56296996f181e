/**
 * The gbdt model family's trainer: a booster that starts from training data and parameters and
 * then boosts round by round, continuing exactly from saved state. boost(boost(s, d, a), d, b)
 * gives the same trees, bit for bit, as boost(s, d, a + b): the state carries the bins, the
 * seed of the keyed random streams (sampling.ts), the round count and the trees, and the scores
 * on the training rows are recomputed from the trees with the very additions training made.
 */
import { binMatrix, findBins, type ColumnBins } from './bins.ts';
import { validateTrainingSet, type TrainingSet } from './data.ts';
import { TreeGrower, type RowSet } from './grow.ts';
import { objectiveFor } from './objective.ts';
import { GbdtInputError, validateParams, type GbdtParams } from './params.ts';
import { addTree, rawScoresByOutput } from './predict.ts';
import { bags, drawBag, drawColumns } from './sampling.ts';
import type { Tree, TreeEnsemble } from './tree.ts';

export { GBDT_DEFAULTS, GbdtInputError, type GbdtParams } from './params.ts';
export type { TrainingSet } from './data.ts';
export { gainImportance, predictOutput, predictRaw } from './predict.ts';
export { decodeBooster, encodeBooster } from './codec.ts';

export interface BoosterState {
  params: GbdtParams;
  ensemble: TreeEnsemble;
  /** Boosting rounds done (one tree per output each). */
  rounds: number;
  /** Keys every random draw (bagging, column sampling) with the round. */
  seed: number;
  /** Shape of the training set the booster must be continued on. */
  nRows: number;
  nClasses: number;
  /** Bins of each column, found from the training data at the start. */
  bins: ColumnBins[];
}

export function startBooster(data: TrainingSet, params: GbdtParams, seed: number): BoosterState {
  const checked = validateParams(params);
  validateTrainingSet(data);
  if (!Number.isSafeInteger(seed)) throw new GbdtInputError(`gbdt seed must be a safe integer, got ${seed}`);
  const objective = objectiveFor(data.nClasses);
  return {
    params: checked,
    ensemble: {
      nOutputs: objective.nOutputs,
      trees: Array.from({ length: objective.nOutputs }, () => []),
      base: objective.base(data.target, data.weights),
      link: objective.link,
      nColumns: data.nColumns,
    },
    rounds: 0,
    seed,
    nRows: data.nRows,
    nClasses: data.nClasses,
    bins: findBins(data.x, data.nRows, data.nColumns, checked.maxBins),
  };
}

const leafOnly = (): Tree => ({
  feature: Int32Array.of(-1),
  threshold: new Float64Array(1),
  missingLeft: new Uint8Array(1),
  left: Int32Array.of(-1),
  right: Int32Array.of(-1),
  value: new Float64Array(1),
  cover: new Float64Array(1),
  gain: new Float64Array(1),
});

/**
 * Called after each round with the rounds done, the round's trees (one per output) and the
 * training rows' raw scores after it (output-major, scores[k * nRows + i]; read, do not keep).
 */
export type OnRound = (round: number, trees: readonly Tree[], scores: Float64Array) => void;

/** `rounds` more rounds on the booster's training set; returns a new state (the given one is left as it was). */
export function boost(state: BoosterState, data: TrainingSet, rounds: number, onRound?: OnRound): BoosterState {
  if (!Number.isInteger(rounds) || rounds < 0) throw new GbdtInputError(`gbdt rounds must be an integer >= 0, got ${rounds}`);
  validateTrainingSet(data);
  if (data.nRows !== state.nRows || data.nColumns !== state.ensemble.nColumns || data.nClasses !== state.nClasses) {
    throw new GbdtInputError(
      `gbdt training set: ${data.nRows} rows x ${data.nColumns} columns, ${data.nClasses} classes, but the booster was started on ` +
        `${state.nRows} x ${state.ensemble.nColumns}, ${state.nClasses} classes`,
    );
  }
  const { params, seed, ensemble } = state;
  const { nRows, nColumns, x, target, weights } = data;
  const K = ensemble.nOutputs;
  const objective = objectiveFor(data.nClasses);
  const trains = objective.trains(target, weights);
  const binned = { nRows, columns: state.bins, bins: binMatrix(state.bins, x, nRows) };
  const grower = new TreeGrower(binned, params);
  const scores = rawScoresByOutput(ensemble, x, nRows);
  const grad = Array.from({ length: K }, () => new Float32Array(nRows));
  const hess = Array.from({ length: K }, () => new Float32Array(nRows));
  const splittable = Uint8Array.from(state.bins, (c) => (c.upper.length + (c.nanBin ? 1 : 0) > 1 ? 1 : 0));
  const rowSet: RowSet = { rows: Int32Array.from({ length: nRows }, (_, i) => i), count: nRows, all: true };
  const bagged = bags(params);
  let bagPeriod = -1;
  const trees = ensemble.trees.map((t) => t.slice());

  for (let round = state.rounds; round < state.rounds + rounds; round++) {
    if (bagged && Math.floor(round / params.baggingFreq) !== bagPeriod) {
      bagPeriod = Math.floor(round / params.baggingFreq);
      rowSet.count = drawBag(seed, bagPeriod, nRows, params.baggingFraction, rowSet.rows);
      rowSet.all = false;
    }
    objective.gradients(scores, target, weights, grad, hess);
    const grown: Tree[] = [];
    for (let k = 0; k < K; k++) {
      const usable = drawColumns(seed, round, k, splittable, params.featureFraction);
      const tree = trains[k] && rowSet.count > 0 ? grower.grow(grad[k], hess[k], rowSet, usable) : leafOnly();
      addTree(tree, x, nRows, nColumns, scores, k * nRows);
      trees[k].push(tree);
      grown.push(tree);
    }
    onRound?.(round + 1, grown, scores);
  }
  return { ...state, ensemble: { ...ensemble, trees }, rounds: state.rounds + rounds };
}

/**
 * The booster as it was after its first `rounds` rounds (LightGBM's model at best_iteration):
 * it predicts as that booster did and boosts on from there.
 */
export function truncateBooster(state: BoosterState, rounds: number): BoosterState {
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > state.rounds) {
    throw new GbdtInputError(`gbdt: cannot truncate a booster of ${state.rounds} rounds at ${rounds} rounds`);
  }
  if (rounds === state.rounds) return state;
  return { ...state, ensemble: { ...state.ensemble, trees: state.ensemble.trees.map((t) => t.slice(0, rounds)) }, rounds };
}
