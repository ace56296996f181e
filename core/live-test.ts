/**
 * The live test of a canary or an A/B test: one look at the labelled outcomes of both models
 * since the test began, judged by the always-valid sequential tests of core/sequential/ (accuracy
 * as a difference of proportions, a regression model's squared errors as a difference of means).
 * The retrain workflow looks as often as it likes; every verdict keeps its error rate `alpha`.
 *
 * Everything that shapes the test is fixed before it starts, as the mSPRT requires: the margin
 * and the mixing variance of a regression test come from the champion's MSE on the offline
 * holdout, not from the live errors.
 *
 * PURE module: deterministic, imports only core/.
 */
import { INITIAL_STATE, type SequentialOptions, type SequentialResult, type SequentialState } from './sequential/always-valid.ts';
import { meanSequentialTest, squaredErrorMargin, type Moments } from './sequential/difference-of-means.ts';
import { accuracySequentialTest } from './sequential/two-proportions.ts';

export { INITIAL_STATE, type SequentialResult, type SequentialState };

/** One model's labelled live outcomes: right answers of a classifier, squared-error moments of a regression model. */
export interface LiveArm {
  n: number;
  correct?: number;
  squaredErrors?: Moments;
}

export interface LiveTestSettings {
  alpha: number;
  /** How much worse the challenger may be and still pass: accuracy points, or a share of the champion's RMSE. */
  tolerance: number;
  /** The mixing distribution's standard deviation: accuracy points, or a share of the champion's MSE. */
  effectScale?: number;
  /** Looks before each model has this many labelled outcomes change nothing. */
  minSamples: number;
  /** A regression model's test: the champion's MSE on the offline holdout. */
  championHoldoutMse?: number;
}

/** Where a live test stands, for the retrain's status query. */
export interface LiveTestStatus {
  test: 'canary' | 'ab-test';
  decision: SequentialResult['decision'];
  effect: number | null;
  lower: number | null;
  upper: number | null;
  pValue: number;
  eValue: number | null;
  samples: { champion: number; challenger: number };
  looks: number;
  line: string;
}

export const DEFAULT_EFFECT_SCALE = { accuracy: 0.05, squaredError: 0.5 } as const;

/** The test's options for a classifier or (with championHoldoutMse) a regression model. */
export function liveTestOptions(settings: LiveTestSettings): SequentialOptions {
  const { alpha, tolerance, minSamples, championHoldoutMse: mse } = settings;
  if (mse === undefined) {
    const scale = settings.effectScale ?? DEFAULT_EFFECT_SCALE.accuracy;
    return { alpha, margin: tolerance, mixingVariance: scale ** 2, minSamples };
  }
  const scale = (settings.effectScale ?? DEFAULT_EFFECT_SCALE.squaredError) * mse;
  return { alpha, margin: squaredErrorMargin(tolerance, mse), mixingVariance: scale ** 2, minSamples };
}

/** One look at the cumulative outcomes; pass the previous look's `state` (INITIAL_STATE first). */
export function lookAtLive(
  state: SequentialState,
  live: { champion: LiveArm; challenger: LiveArm },
  settings: LiveTestSettings,
): SequentialResult {
  const options = liveTestOptions(settings);
  const { champion, challenger } = live;
  if (settings.championHoldoutMse !== undefined) {
    const empty: Moments = { n: 0, mean: 0, m2: 0 };
    return meanSequentialTest(state, champion.squaredErrors ?? empty, challenger.squaredErrors ?? empty, options);
  }
  return accuracySequentialTest(
    state,
    { n: champion.n, correct: champion.correct ?? 0 },
    { n: challenger.n, correct: challenger.correct ?? 0 },
    options,
  );
}

/** What the retrain records of a look: the effect, its interval and the evidence, one line. */
export function describeLook(result: SequentialResult, settings: LiveTestSettings): string {
  const regression = settings.championHoldoutMse !== undefined;
  const what = regression ? 'mean squared error' : 'accuracy';
  const level = `${Math.round((1 - settings.alpha) * 1000) / 10}%`;
  const bound = (v: number | null, side: string) => (v === null ? side : fixed(v));
  const interval = `[${bound(result.lower, '-inf')}, ${bound(result.upper, 'inf')}]`;
  return (
    `${what} challenger minus champion ${Number.isFinite(result.effect) ? fixed(result.effect) : 'n/a'}, ` +
    `${level} always-valid interval ${interval}, p ${evidence(result.pValue)}, e-value ${evidence(result.eValue)}, ` +
    `${result.samples.challenger} labelled challenger vs ${result.samples.champion} champion`
  );
}

/** Three decimals; a tiny value keeps three significant digits instead of becoming 0.000. */
const fixed = (v: number) => (v === 0 || Math.abs(v) >= 0.001 ? v.toFixed(3) : v.toPrecision(3));
/** p-values and e-values span many orders of magnitude. */
const evidence = (v: number) => (v === 0 || (Math.abs(v) >= 0.001 && Math.abs(v) < 1000) ? v.toFixed(3) : v.toExponential(2));

/** The numbers of a look as MLflow metrics under `prefix` (e.g. "canary", "ab"); unbounded or non-finite ones are left out. */
export function lookMetrics(prefix: string, result: SequentialResult): Record<string, number> {
  const metrics: Record<string, number> = {
    [`${prefix}.p_value`]: result.pValue,
    [`${prefix}.e_value`]: result.eValue,
    [`${prefix}.samples_challenger`]: result.samples.challenger,
    [`${prefix}.samples_champion`]: result.samples.champion,
  };
  if (result.lower !== null) metrics[`${prefix}.ci_lower`] = result.lower;
  if (result.upper !== null) metrics[`${prefix}.ci_upper`] = result.upper;
  metrics[`${prefix}.effect`] = result.effect;
  // NaN (no outcomes yet) and an overflowing e-value are not metrics MLflow can store.
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));
}
