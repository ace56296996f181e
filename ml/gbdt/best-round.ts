/**
 * LightGBM's best iteration: while a booster boosts, its validation rows are scored round by
 * round (each new tree's outputs added to the kept raw scores, never a prediction from scratch)
 * and the round with the lowest validation loss (the training objective: squared error, log
 * loss) is remembered; the model a trial saves and serves is the booster truncated there.
 * Ties keep the earlier round (LightGBM's strict improvement). Without validation rows every
 * round is the best one. The raw scores at the best round are kept too, on the validation and
 * the training rows, so a trial reports the metrics of the model as saved.
 */
import type { BoosterState, TrainingSet } from './booster.ts';
import { truncateBooster } from './booster.ts';
import { objectiveFor } from './objective.ts';
import { addTree, rawScoresByOutput } from './predict.ts';
import type { Tree } from './tree.ts';

export class BestRound {
  readonly #validation: TrainingSet;
  readonly #loss: (scores: Float64Array) => number;
  /** The booster this tracking started from (all its trees); a best round up to its rounds lies in it. */
  readonly #start: BoosterState;
  /** Validation raw scores after the latest round, output-major. */
  readonly #now: Float64Array;
  #rounds: number;
  #bestLoss: number;
  #valAtBest: Float64Array;
  /** Training raw scores at the best round, when it was found by this tracker. */
  #trainAtBest: Float64Array | undefined;

  /**
   * `state`: the booster so far; `bestRounds`: its best round when resuming a run that tracked
   * one on these validation rows, undefined when none of its rounds may be picked (a fresh
   * start, or a warm start from a champion's trees: the best is then one of the new rounds).
   */
  constructor(state: BoosterState, bestRounds: number | undefined, validation: TrainingSet) {
    const objective = objectiveFor(state.nClasses);
    this.#validation = validation;
    this.#loss = (scores) => objective.loss(scores, validation.target);
    this.#start = state;
    this.#now = rawScoresByOutput(state.ensemble, validation.x, validation.nRows);
    this.#rounds = bestRounds ?? state.rounds;
    this.#valAtBest =
      bestRounds === undefined || bestRounds === state.rounds
        ? this.#now.slice()
        : rawScoresByOutput(truncateBooster(state, bestRounds).ensemble, validation.x, validation.nRows);
    this.#bestLoss = bestRounds === undefined ? Infinity : this.#loss(this.#valAtBest);
  }

  /** The rounds of the best model so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** One more round (boost's onRound): its trees, one per output, and the training rows' raw scores after it. */
  add(round: number, trees: readonly Tree[], trainScores: Float64Array): void {
    const { x, nRows, nColumns } = this.#validation;
    trees.forEach((tree, k) => addTree(tree, x, nRows, nColumns, this.#now, k * nRows));
    const loss = nRows === 0 ? NaN : this.#loss(this.#now);
    if (nRows === 0 || loss < this.#bestLoss) {
      this.#rounds = round;
      this.#bestLoss = loss;
      this.#valAtBest.set(this.#now);
      this.#trainAtBest ??= new Float64Array(trainScores.length);
      this.#trainAtBest.set(trainScores);
    }
  }

  /** Validation raw scores at the best round, output-major. */
  validationScores(): Float64Array {
    return this.#valAtBest;
  }

  /** Training raw scores at the best round, output-major (predicted when the best round came before this tracking). */
  trainingScores(train: TrainingSet): Float64Array {
    this.#trainAtBest ??= rawScoresByOutput(truncateBooster(this.#start, this.#rounds).ensemble, train.x, train.nRows);
    return this.#trainAtBest;
  }
}
