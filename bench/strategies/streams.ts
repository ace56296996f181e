/**
 * Simulated live traffic with known truth for bench/strategies: each labelled prediction goes to
 * the challenger with probability `weight` (the canary's share, or 0.5 for an A/B test), else to
 * the champion, and is right with that model's true accuracy (classification), or carries a
 * squared error drawn from that model's true error distribution (regression). Every stream is
 * drawn once from its own seeded generator (core/stats/rng.ts `derive`), so every strategy is
 * judged on exactly the same labels.
 */
import { derive } from '../../core/stats/rng.ts';

/** Labels in arrival order: which model answered (1 = challenger) and its outcome. */
export interface LabelStream {
  toChallenger: Uint8Array;
  /** 1 = right (classification), or the squared error (regression). */
  outcome: Float64Array;
}

export interface ClassificationTruth {
  championAccuracy: number;
  /** Challenger accuracy minus champion accuracy. */
  effect: number;
}

export interface RegressionTruth {
  /** The champion's errors are N(0, 1); the challenger's N(0, (1 + rmseChange)²). */
  rmseChange: number;
}

export function classificationStream(seedKeys: number[], truth: ClassificationTruth, weight: number, length: number): LabelStream {
  const rng = derive(SEED, ...seedKeys);
  const toChallenger = new Uint8Array(length);
  const outcome = new Float64Array(length);
  const challengerAccuracy = truth.championAccuracy + truth.effect;
  for (let i = 0; i < length; i++) {
    const challenger = rng.uniform() < weight;
    toChallenger[i] = challenger ? 1 : 0;
    outcome[i] = rng.uniform() < (challenger ? challengerAccuracy : truth.championAccuracy) ? 1 : 0;
  }
  return { toChallenger, outcome };
}

export function regressionStream(seedKeys: number[], truth: RegressionTruth, weight: number, length: number): LabelStream {
  const rng = derive(SEED, ...seedKeys);
  const toChallenger = new Uint8Array(length);
  const outcome = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const challenger = rng.uniform() < weight;
    toChallenger[i] = challenger ? 1 : 0;
    const error = rng.normal() * (challenger ? 1 + truth.rmseChange : 1);
    outcome[i] = error * error;
  }
  return { toChallenger, outcome };
}

const SEED = 20261202;
