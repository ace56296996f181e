/**
 * The offline promotion gate of a retrain: the challenger goes on to approval and the canary only
 * if its accuracy on the most recent holdout reaches the champion's plus
 * `evaluation.minImprovement`. PURE, so the retrain workflow and the drift-eval simulation
 * (bench/drift-eval.ts) decide with the same rule.
 */
export interface HoldoutComparison {
  challenger: { accuracy: number };
  /** Absent for a model's first retrain: there is no champion to beat. */
  champion?: { accuracy: number };
}

export function beatsChampion(scores: HoldoutComparison, minImprovement: number): boolean {
  return scores.challenger.accuracy >= (scores.champion?.accuracy ?? -Infinity) + minImprovement;
}
