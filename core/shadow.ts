/**
 * A shadow judged against the champion on the same inputs, PURE so the retrain's shadow phase
 * and monitoring read the log's counts alike. A shadow prediction is paired with its served twin
 * (the champion's prediction made from the same request); the store counts the pairs
 * (ShadowPairCounts) and this module turns counts into the comparison and the verdict:
 * - agreement: the share of pairs where the shadow predicted the champion's class (classifiers);
 *   a regression model's pairs give the mean absolute difference of the two predicted numbers;
 * - live scores of both on the pairs whose served prediction got a true label;
 * - worse: its live accuracy more than `tolerance` below the champion's (a regression shadow's
 *   RMSE above the champion's times 1 + tolerance), or its agreement below `minAgreement`, each
 *   only with `minSamples` labelled pairs (agreement: pairs) to tell.
 */
import { canaryIsWorse, type Score } from './promotion.ts';

/** What the store counts over the pairs of one shadow version (adapters/store Store.shadowPairCounts). */
export interface ShadowPairCounts {
  /** Shadow predictions paired with the champion's prediction of the same input. */
  pairs: number;
  /** Pairs with the same predicted label (a classifier's class). */
  agreed: number;
  /** Sum over the pairs of |shadow - champion| (regression models; 0 for classifiers). */
  absDifference: number;
  /** The pairs whose served prediction got feedback with a true label. */
  labelled: { n: number; shadowCorrect: number; championCorrect: number; shadowSquaredError: number; championSquaredError: number };
}

export interface ShadowComparison {
  shadowVersion: string;
  pairs: number;
  /** Share of pairs with the same class; null for a regression model or without pairs. */
  agreement: number | null;
  /** Mean |shadow - champion| of a regression model's pairs; null for a classifier or without pairs. */
  meanAbsDifference: number | null;
  /** Live scores on the labelled pairs (n is how many): accuracy, or RMSE for a regression model. */
  shadow: Score;
  champion: Score;
}

/** The spec's shadow settings that the verdict reads (core/spec.ts `shadow`). */
export interface ShadowJudgement {
  minSamples: number;
  tolerance: number;
  minAgreement: number;
}

export const noShadowPairs = (): ShadowPairCounts => ({
  pairs: 0,
  agreed: 0,
  absDifference: 0,
  labelled: { n: 0, shadowCorrect: 0, championCorrect: 0, shadowSquaredError: 0, championSquaredError: 0 },
});

export function summarizeShadow(shadowVersion: string, counts: ShadowPairCounts, regression: boolean): ShadowComparison {
  const { pairs, labelled } = counts;
  const n = labelled.n;
  const score = (correct: number, squaredError: number): Score =>
    regression ? { n, accuracy: null, rmse: n > 0 ? Math.sqrt(squaredError / n) : null } : { n, accuracy: n > 0 ? correct / n : null };
  return {
    shadowVersion,
    pairs,
    agreement: !regression && pairs > 0 ? counts.agreed / pairs : null,
    meanAbsDifference: regression && pairs > 0 ? counts.absDifference / pairs : null,
    shadow: score(labelled.shadowCorrect, labelled.shadowSquaredError),
    champion: score(labelled.championCorrect, labelled.championSquaredError),
  };
}

/** Why the shadow does worse than the champion, or undefined when it holds up (or there is too little to tell). */
export function shadowIsWorse(c: ShadowComparison, judge: ShadowJudgement): string | undefined {
  if (c.shadow.n >= judge.minSamples && canaryIsWorse({ canary: c.shadow, champion: c.champion }, judge.tolerance)) {
    return c.shadow.rmse !== undefined
      ? `its live RMSE exceeds the champion's by more than ${judge.tolerance * 100}%`
      : `its live accuracy is more than ${judge.tolerance} below the champion's`;
  }
  if (c.agreement !== null && c.pairs >= judge.minSamples && c.agreement < judge.minAgreement) {
    return `it agrees with the champion on ${fraction(c.agreement)} of rows, below the minimum of ${fraction(judge.minAgreement)}`;
  }
  return undefined;
}

/** One line for decisions and notifications: agreement, then both live scores. */
export function describeShadow(c: ShadowComparison): string {
  const agreement =
    c.agreement !== null
      ? `agreement ${fraction(c.agreement)}`
      : c.meanAbsDifference !== null
        ? `mean |difference| ${c.meanAbsDifference.toFixed(3)}`
        : 'no agreement measured';
  const metric = c.shadow.rmse !== undefined ? 'RMSE' : 'accuracy';
  const live = (s: Score) => {
    const value = s.rmse !== undefined ? s.rmse : s.accuracy;
    return value === null ? 'n/a' : value.toFixed(3);
  };
  return `${agreement} on ${c.pairs} shadowed rows; live ${metric} shadow ${live(c.shadow)} vs champion ${live(c.champion)} (${c.shadow.n} labelled)`;
}

const fraction = (x: number) => x.toFixed(3);
