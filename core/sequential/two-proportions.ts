/**
 * The canary's (and A/B test's) always-valid test on accuracy: the difference of two proportions,
 * the challenger's share of correct labelled predictions minus the champion's, judged by the
 * normal-mixture mSPRT (always-valid.ts, after Johari, Pekelis & Walsh, "Always Valid Inference").
 * Give it the cumulative counts at every look (e.g. after each batch of labels).
 *
 * Variance: V = p1(1 - p1)/n1 + p2(1 - p2)/n2 (unpooled, as the effect's interval needs), where
 * each p is Agresti & Caffo's adjusted share (correct + 1) / (n + 2) ("Simple and effective
 * confidence intervals for proportions and differences of proportions result from adding two
 * successes and two failures", The American Statistician 54(4), 2000). Without the adjustment a
 * perfect arm (20 of 20 right) would claim zero variance and make the test overconfident early.
 * The effect itself is the plain difference of shares.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { lookAt, type SequentialOptions, type SequentialResult, type SequentialState } from './always-valid.ts';

/** Labelled predictions of one model so far, and how many of them were right. */
export interface Tally {
  n: number;
  correct: number;
}

/** Defaults for accuracy: margin 0.05 is the spec's `canary.tolerance` default. */
export const PROPORTION_DEFAULTS: SequentialOptions = {
  alpha: 0.05,
  margin: 0.05,
  // τ = 0.05: tuned to accuracy differences of a few points, the size a canary is there to catch.
  mixingVariance: 0.05 ** 2,
  minSamples: 20,
};

const adjustedShare = (t: Tally) => (t.correct + 1) / (t.n + 2);

/** The effect (challenger minus champion accuracy) and its plug-in variance. */
export function proportionDifference(champion: Tally, challenger: Tally): { effect: number; variance: number } {
  const effect = challenger.correct / challenger.n - champion.correct / champion.n;
  const p1 = adjustedShare(champion);
  const p2 = adjustedShare(challenger);
  return { effect, variance: (p1 * (1 - p1)) / champion.n + (p2 * (1 - p2)) / challenger.n };
}

/** One look at the cumulative tallies; pass `state` from the previous result (INITIAL_STATE first). */
export function accuracySequentialTest(
  state: SequentialState,
  champion: Tally,
  challenger: Tally,
  options: SequentialOptions = PROPORTION_DEFAULTS,
): SequentialResult {
  const samples = { champion: champion.n, challenger: challenger.n };
  const { effect, variance } =
    champion.n > 0 && challenger.n > 0 ? proportionDifference(champion, challenger) : { effect: NaN, variance: NaN };
  return lookAt(state, { effect, variance, samples }, 'higher-is-better', options);
}
