/** The gbdt best round (ml/gbdt/best-round.ts) and truncation at it (ml/gbdt/booster.ts truncateBooster). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../core/stats/rng.ts';
import { BestRound } from '../../ml/gbdt/best-round.ts';
import {
  boost,
  encodeBooster,
  GBDT_DEFAULTS,
  GbdtInputError,
  predictRaw,
  startBooster,
  truncateBooster,
  type BoosterState,
  type TrainingSet,
} from '../../ml/gbdt/booster.ts';
import { objectiveFor } from '../../ml/gbdt/objective.ts';
import { rawScoresByOutput } from '../../ml/gbdt/predict.ts';

/** Noisy rows: the label follows column 0 only half the time, so deep trees overfit within a few dozen rounds. */
function rows(nRows: number, seed: number, nClasses: number): TrainingSet {
  const random = mulberry32(seed);
  const nColumns = 4;
  const x = new Float32Array(nRows * nColumns);
  const target = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) {
    for (let c = 0; c < nColumns; c++) x[i * nColumns + c] = random() * 2 - 1;
    const signal = x[i * nColumns] > 0 ? 1 : 0;
    if (nClasses === 0) target[i] = x[i * nColumns] + random() * 2 - 1;
    else target[i] = random() < 0.5 ? signal % nClasses : Math.floor(random() * nClasses);
  }
  return { x, nRows, nColumns, target, nClasses };
}

const overfitting = { ...GBDT_DEFAULTS, numLeaves: 31, minDataInLeaf: 2, learningRate: 0.3, baggingFraction: 0.8, baggingFreq: 1 };

/** Boosts `rounds` rounds, tracking the best round on `validation`. */
function tracked(state: BoosterState, bestRounds: number | undefined, train: TrainingSet, validation: TrainingSet, rounds: number) {
  const best = new BestRound(state, bestRounds, validation);
  const after = boost(state, train, rounds, (round, trees, scores) => best.add(round, trees, scores));
  return { best, after };
}

describe('gbdt best round', () => {
  for (const nClasses of [0, 2, 3]) {
    it(`keeps validation scores round by round that equal a prediction from scratch, and picks the round of least loss (${nClasses || 'regression'})`, () => {
      const train = rows(300, 1, nClasses);
      const validation = rows(200, 2, nClasses);
      const { best, after } = tracked(startBooster(train, overfitting, 3), undefined, train, validation, 60);
      const atBest = truncateBooster(after, best.rounds);
      assert.deepEqual(best.validationScores(), rawScoresByOutput(atBest.ensemble, validation.x, validation.nRows));
      assert.deepEqual(best.trainingScores(train), rawScoresByOutput(atBest.ensemble, train.x, train.nRows));
      // The loss of every round, each predicted from scratch: the best is the first minimum, before the last round.
      const loss = (r: number) =>
        objectiveFor(nClasses).loss(
          rawScoresByOutput(truncateBooster(after, r).ensemble, validation.x, validation.nRows),
          validation.target,
        );
      const losses = Array.from({ length: 60 }, (_, i) => loss(i + 1));
      assert.equal(best.rounds, 1 + losses.indexOf(Math.min(...losses)));
      assert.ok(best.rounds < 60, `best round ${best.rounds} of 60: the data should overfit`);
    });
  }

  it('resumes from a checkpoint and its best round exactly as one run, and a warm start picks among its new rounds', () => {
    const train = rows(300, 4, 2);
    const validation = rows(200, 5, 2);
    const start = startBooster(train, overfitting, 9);
    const whole = tracked(start, undefined, train, validation, 60);
    // Stop at 8 rounds, before the best round, and at 40, after it.
    for (const at of [8, 40]) {
      const first = tracked(start, undefined, train, validation, at);
      const rest = tracked(first.after, first.best.rounds, train, validation, 60 - at);
      assert.equal(rest.best.rounds, whole.best.rounds);
      assert.deepEqual(rest.best.validationScores(), whole.best.validationScores());
      assert.deepEqual(rest.best.trainingScores(train), whole.best.trainingScores(train));
    }
    const warm = tracked(whole.after, undefined, train, validation, 5);
    assert.ok(warm.best.rounds > 60, `a warm start's best round ${warm.best.rounds} is one of its own`);
  });

  it('takes every round without validation rows', () => {
    const train = rows(100, 6, 0);
    const { best } = tracked(
      startBooster(train, overfitting, 1),
      undefined,
      train,
      { ...rows(1, 7, 0), nRows: 0, x: new Float32Array(0), target: new Float64Array(0) },
      12,
    );
    assert.equal(best.rounds, 12);
  });

  it('truncates a booster into the booster of that many rounds, which boosts on exactly', () => {
    const train = rows(300, 8, 3);
    const start = startBooster(train, { ...overfitting, featureFraction: 0.7, baggingFreq: 4 }, 11);
    const full = boost(start, train, 50);
    const at = truncateBooster(full, 21);
    assert.deepEqual(encodeBooster(at), encodeBooster(boost(start, train, 21)));
    assert.deepEqual(predictRaw(at.ensemble, train.x, train.nRows), predictRaw(boost(start, train, 21).ensemble, train.x, train.nRows));
    assert.deepEqual(encodeBooster(boost(at, train, 29)), encodeBooster(full));
    assert.equal(full.rounds, 50, 'truncation leaves the booster as it was');
    assert.throws(
      () => truncateBooster(full, 51),
      (err: Error) => err instanceof GbdtInputError && /at 51 rounds/.test(err.message),
    );
  });
});
