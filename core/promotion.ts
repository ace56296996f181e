/**
 * The verdicts of a retrain on its challenger, PURE so the retrain workflow and the drift-eval
 * simulation (bench/drift-eval/strategies.ts) decide alike:
 * - offline: the challenger goes on to approval and the canary only if its accuracy on the most
 *   recent holdout reaches the champion's plus `evaluation.minImprovement`; for a regression model,
 *   if its RMSE is at most the champion's times (1 - minImprovement);
 * - live: a canary is rolled back when its live accuracy falls more than `canary.tolerance` below
 *   the champion's; a regression canary, when its live RMSE exceeds the champion's times
 *   (1 + tolerance).
 * Scores travel through workflow history as JSON, where NaN becomes null: a missing metric is null.
 */

/** A model's score on labelled rows: accuracy for a classifier, RMSE for a regression model. */
export interface Score {
  n: number;
  accuracy: number | null;
  /** Present for a regression model only. */
  rmse?: number | null;
  /** Live scores: a classifier's right answers, for the sequential test (absent in histories from before it). */
  correct?: number;
  /** Live scores: a regression model's squared-error moments, for the sequential test. */
  squaredErrors?: { n: number; mean: number; m2: number };
}

export interface HoldoutComparison {
  challenger: Score;
  /** Absent for a model's first retrain: there is no champion to beat. */
  champion?: Score;
}

const isRegression = (s: Score) => s.rmse !== undefined;

export function beatsChampion(scores: HoldoutComparison, minImprovement: number): boolean {
  const { challenger, champion } = scores;
  if (!champion) return true;
  if (isRegression(challenger)) return challenger.rmse! <= champion.rmse! * (1 - minImprovement);
  return challenger.accuracy! >= champion.accuracy! + minImprovement;
}

/** Is the canary's live score worse than the champion's by more than `tolerance`? Both need labelled predictions. */
export function canaryIsWorse(live: { canary: Score; champion: Score }, tolerance: number): boolean {
  const { canary, champion } = live;
  if (canary.n === 0 || champion.n === 0) return false;
  if (isRegression(canary)) return canary.rmse! > champion.rmse! * (1 + tolerance);
  return canary.accuracy! < champion.accuracy! - tolerance;
}
