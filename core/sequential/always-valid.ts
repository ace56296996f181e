/**
 * What the sequential tests share: the state an always-valid test carries from one look to the
 * next, how a look updates it, and the canary's three-way decision. The mathematics is
 * normal-mixture.ts (Johari, Pekelis & Walsh's mSPRT); the effect and its variance come from
 * two-proportions.ts (accuracy) or difference-of-means.ts (squared errors).
 *
 * The decision, with the always-valid (1 - α) interval [lower, upper] of the effect
 * (challenger minus champion) and the non-inferiority margin m >= 0 (the spec's `tolerance`):
 * - `worse`: the whole interval says the challenger is worse than the champion (upper < 0 when
 *   higher is better, lower > 0 when lower is better, e.g. squared errors): roll back;
 * - `not-worse`: the whole interval is above -m (below +m for a loss): the challenger is at worst
 *   m worse, so promote (a non-inferiority test at margin m);
 * - `continue`: keep baking.
 * Each verdict is wrong with probability at most α over the whole test, however often one looks:
 * a challenger as good as the champion is rolled back with probability <= α, and one worse than
 * the margin is promoted with probability <= α. When the interval is both (worse, but by less
 * than m), `worse` wins: a model known to be worse is not promoted.
 *
 * The state is plain JSON (it travels through workflow history, where Infinity would become
 * null): an unbounded side of the interval is null.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { logMixtureLikelihoodRatio, mixtureConfidenceRadius } from './normal-mixture.ts';

export type Decision = 'worse' | 'not-worse' | 'continue';
/** Accuracy: higher is better. Squared errors: lower is better. */
export type Direction = 'higher-is-better' | 'lower-is-better';

export interface SequentialOptions {
  /** Error rate of each verdict over the whole test (two-sided interval at 1 - alpha). */
  alpha: number;
  /** Non-inferiority margin in the effect's units, >= 0 (the spec's `tolerance`). */
  margin: number;
  /** τ², the variance of the normal mixture over effects: fixed before the test starts. */
  mixingVariance: number;
  /** Looks before each arm has this many samples update nothing: plug-in variances need some data. */
  minSamples: number;
}

/** Carried from look to look: the running extremes that make the p-value and interval always valid. */
export interface SequentialState {
  /** Looks that updated the state (enough samples, a positive variance). */
  looks: number;
  /** The largest log Λ(0) so far (0 before any look: p-value 1). */
  maxLogLikelihoodRatio: number;
  /** Running intersection of the intervals; null while unbounded. */
  lower: number | null;
  upper: number | null;
}

export const INITIAL_STATE: SequentialState = { looks: 0, maxLogLikelihoodRatio: 0, lower: null, upper: null };

export interface SequentialResult {
  decision: Decision;
  /** Challenger minus champion, from all samples so far (NaN before an arm has one). */
  effect: number;
  /** The always-valid (1 - alpha) interval of the effect; null sides are unbounded. */
  lower: number | null;
  upper: number | null;
  /** Always-valid p-value of "no difference" (effect 0), two-sided. */
  pValue: number;
  /** Λ(0) at this look: an e-value for "no difference" (valid at any stopping time). */
  eValue: number;
  samples: { champion: number; challenger: number };
  /** Pass to the next look. */
  state: SequentialState;
}

/** An effect estimate at one look. */
export interface Look {
  effect: number;
  /** The plug-in variance of `effect`. */
  variance: number;
  samples: { champion: number; challenger: number };
}

/** One look: update the running state with this estimate and decide. */
export function lookAt(state: SequentialState, look: Look, direction: Direction, options: SequentialOptions): SequentialResult {
  const { effect, variance, samples } = look;
  const enough = Math.min(samples.champion, samples.challenger) >= Math.max(1, options.minSamples);
  if (!enough || !(variance > 0) || !Number.isFinite(effect)) {
    // Skipping a look keeps every guarantee: the bounds hold at all times, so also at the looks taken.
    return result(state, look, direction, options, 0);
  }
  const logRatio = logMixtureLikelihoodRatio(effect, variance, options.mixingVariance);
  const radius = mixtureConfidenceRadius(variance, options.mixingVariance, options.alpha);
  const next: SequentialState = {
    looks: state.looks + 1,
    maxLogLikelihoodRatio: Math.max(state.maxLogLikelihoodRatio, logRatio),
    lower: state.lower === null ? effect - radius : Math.max(state.lower, effect - radius),
    upper: state.upper === null ? effect + radius : Math.min(state.upper, effect + radius),
  };
  return result(next, look, direction, options, logRatio);
}

function result(state: SequentialState, look: Look, direction: Direction, options: SequentialOptions, logRatio: number): SequentialResult {
  return {
    decision: decide(state, direction, options.margin),
    effect: look.effect,
    lower: state.lower,
    upper: state.upper,
    pValue: Math.min(1, Math.exp(-state.maxLogLikelihoodRatio)),
    eValue: Math.exp(logRatio),
    samples: look.samples,
    state,
  };
}

/** The three-way verdict of the header, from the running interval. */
export function decide(state: SequentialState, direction: Direction, margin: number): Decision {
  const { lower, upper } = state;
  if (direction === 'higher-is-better') {
    if (upper !== null && upper < 0) return 'worse';
    if (lower !== null && lower > -margin) return 'not-worse';
  } else {
    if (lower !== null && lower > 0) return 'worse';
    if (upper !== null && upper < margin) return 'not-worse';
  }
  return 'continue';
}
