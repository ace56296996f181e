/**
 * `npm run bench -- strategies`: do the live strategies decide right, and how fast? Simulated
 * labelled traffic with known truth (bench/strategies/streams.ts), many seeded repetitions, every
 * strategy on the same streams (bench/strategies/strategies.ts). In-process, no services.
 *
 * - Canary (20% of traffic to the challenger, a look after every 50 labels, at most 10,000
 *   labels): the sequential canary (core/sequential/, α = 0.05, margin = tolerance = 0.05) against
 *   today's rule `canaryIsWorse` checked at every look, and checked once after 350 labels (~70
 *   canary labels, one bake: how the retrain workflow uses it now), for a challenger as good as
 *   the champion (accuracy 0.80), slightly worse (-0.03, within the tolerance), clearly worse
 *   (-0.10) and better (+0.05). A false rollback is a rollback of an as-good challenger: the
 *   sequential test promises at most α.
 * - A/B test (50/50, a fixed horizon of 4,000 labels): the sequential test with margin 0 (stops
 *   early when the challenger is better or worse), the fixed-horizon z-test at the horizon, and the
 *   z-test peeked at after every batch. A false positive is any verdict on an as-good challenger.
 * - Regression canary: squared errors, the champion's errors N(0, 1), the challenger's RMSE the
 *   same, 3% worse (within tolerance), 15% worse, 5% better; at most 20,000 labels.
 * - Mixing variance: the canary's τ at 0.025, 0.05 (the default) and 0.1; the regression canary's
 *   τ (`effectScale` × the champion's MSE) from 0.1 to 2 with a look after every 10 labels, adding
 *   a grossly worse challenger (RMSE doubled), the case a canary must stop within a few labels.
 * - CBPE: the mean absolute error of estimated vs realised accuracy per window on the weather and
 *   flights streams (bench/strategies/cbpe-streams.ts; `cbpe.meanAbsError` is the mean of the
 *   two), and on a synthetic stream with known truth (bench/strategies/cbpe-synthetic.ts).
 *
 * PERENNIAL_BENCH_STRATEGIES_REPS sets the repetitions per scenario (default 2000).
 */
import { liveTestOptions } from '../../core/live-test.ts';
import { median } from '../../core/stats/quantiles.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { cbpeStreams } from './cbpe-streams.ts';
import { cbpeSynthetic } from './cbpe-synthetic.ts';
import {
  currentRegressionRuleEveryLook,
  currentRuleEveryLook,
  currentRuleOneLook,
  fixedHorizonAb,
  peekingAb,
  sequentialAb,
  sequentialCanary,
  sequentialRegressionCanary,
  type Outcome,
} from './strategies.ts';
import { classificationStream, regressionStream, type LabelStream } from './streams.ts';

const REPS = Number(process.env.PERENNIAL_BENCH_STRATEGIES_REPS ?? 2000);
const ALPHA = 0.05;
const TOLERANCE = 0.05;
const MIN_SAMPLES = 20;
const BATCH = 50;
const CHAMPION_ACCURACY = 0.8;
const CANARY = { weight: 0.2, maxLabels: 10_000, oneLookLabels: 350 };
const AB = { weight: 0.5, horizon: 4000 };
const REGRESSION = { weight: 0.2, maxLabels: 20_000, championMse: 1 };

const SCENARIOS = [
  { name: 'asGood', effect: 0 },
  { name: 'slightlyWorse', effect: -0.03 },
  { name: 'clearlyWorse', effect: -0.1 },
  { name: 'better', effect: 0.05 },
] as const;
const REGRESSION_SCENARIOS = [
  { name: 'asGood', rmseChange: 0 },
  { name: 'slightlyWorse', rmseChange: 0.03 },
  { name: 'clearlyWorse', rmseChange: 0.15 },
  { name: 'better', rmseChange: -0.05 },
] as const;

// The options the retrain workflow derives from the spec (core/live-test.ts), so the bench measures its tests.
const CANARY_OPTIONS = liveTestOptions({ alpha: ALPHA, tolerance: TOLERANCE, minSamples: MIN_SAMPLES });
// τ and the margin come from the champion's holdout MSE, known before the canary starts.
const REGRESSION_OPTIONS = liveTestOptions({
  alpha: ALPHA,
  tolerance: TOLERANCE,
  minSamples: MIN_SAMPLES,
  championHoldoutMse: REGRESSION.championMse,
});

/** Shares of verdicts and labels spent, over the repetitions of one strategy in one scenario. */
function summarise(outcomes: Outcome[]) {
  const share = (v: Outcome['verdict']) => outcomes.filter((o) => o.verdict === v).length / outcomes.length;
  const decided = outcomes.filter((o) => o.verdict !== 'none').map((o) => o.labels);
  return {
    rollbackRate: share('rollback'),
    promoteRate: share('promote'),
    undecidedRate: share('none'),
    medianLabelsToDecision: decided.length ? median(decided) : null,
    medianLabels: median(outcomes.map((o) => o.labels)),
  };
}
type Summary = ReturnType<typeof summarise>;

/** Runs every strategy on the same REPS streams of a scenario. */
function runScenario<K extends string>(
  makeStream: (rep: number) => LabelStream,
  strategies: Record<K, (s: LabelStream) => Outcome>,
  reps = REPS,
): Record<K, Summary> {
  const names = Object.keys(strategies) as K[];
  const outcomes = Object.fromEntries(names.map((n) => [n, [] as Outcome[]])) as Record<K, Outcome[]>;
  for (let rep = 0; rep < reps; rep++) {
    const stream = makeStream(rep);
    for (const n of names) outcomes[n].push(strategies[n](stream));
  }
  return Object.fromEntries(names.map((n) => [n, summarise(outcomes[n])])) as Record<K, Summary>;
}

function canary() {
  const scenarios = Object.fromEntries(
    SCENARIOS.map((s, i) => [
      s.name,
      runScenario(
        (rep) =>
          classificationStream([1, i, rep], { championAccuracy: CHAMPION_ACCURACY, effect: s.effect }, CANARY.weight, CANARY.maxLabels),
        {
          sequential: (st) => sequentialCanary(st, BATCH, CANARY_OPTIONS),
          currentRuleEveryLook: (st) => currentRuleEveryLook(st, BATCH, TOLERANCE, MIN_SAMPLES),
          currentRuleOneLook: (st) => currentRuleOneLook(st, CANARY.oneLookLabels, TOLERANCE, MIN_SAMPLES),
        },
      ),
    ]),
  );
  return { scenarios, falseRollbackRate: scenarios.asGood.sequential.rollbackRate };
}

function ab() {
  const scenarios = Object.fromEntries(
    SCENARIOS.map((s, i) => [
      s.name,
      runScenario(
        (rep) => classificationStream([2, i, rep], { championAccuracy: CHAMPION_ACCURACY, effect: s.effect }, AB.weight, AB.horizon),
        {
          sequential: (st) => sequentialAb(st, BATCH, CANARY_OPTIONS),
          fixedHorizonZTest: (st) => fixedHorizonAb(st, ALPHA),
          peekingZTest: (st) => peekingAb(st, BATCH, ALPHA, MIN_SAMPLES),
        },
      ),
    ]),
  );
  const asGood = scenarios.asGood.sequential;
  return { scenarios, falsePositiveRate: asGood.rollbackRate + asGood.promoteRate };
}

function regressionCanary() {
  const scenarios = Object.fromEntries(
    REGRESSION_SCENARIOS.map((s, i) => [
      s.name,
      runScenario((rep) => regressionStream([3, i, rep], { rmseChange: s.rmseChange }, REGRESSION.weight, REGRESSION.maxLabels), {
        sequential: (st) => sequentialRegressionCanary(st, BATCH, REGRESSION_OPTIONS),
        currentRuleEveryLook: (st) => currentRegressionRuleEveryLook(st, BATCH, TOLERANCE, MIN_SAMPLES),
      }),
    ]),
  );
  return { scenarios, falseRollbackRate: scenarios.asGood.sequential.rollbackRate };
}

function mixingSensitivity() {
  const reps = Math.max(1, Math.round(REPS / 4));
  return [0.025, 0.05, 0.1].map((tau) => {
    const options = { ...CANARY_OPTIONS, mixingVariance: tau * tau };
    const run = (scenario: number, effect: number) =>
      runScenario(
        (rep) => classificationStream([4, scenario, rep], { championAccuracy: CHAMPION_ACCURACY, effect }, CANARY.weight, CANARY.maxLabels),
        { sequential: (st) => sequentialCanary(st, BATCH, options) },
        reps,
      ).sequential;
    return { tau, asGood: run(0, 0), clearlyWorse: run(2, -0.1) };
  });
}

/** The regression canary's τ: a small τ suits small effects late, a large one stops gross ones early. */
function regressionMixingSensitivity() {
  const reps = Math.max(1, Math.round(REPS / 4));
  const effects = [...REGRESSION_SCENARIOS, { name: 'grosslyWorse', rmseChange: 1 }] as const;
  return [0.1, 0.25, 0.5, 1, 2].map((effectScale) => {
    const options = liveTestOptions({
      alpha: ALPHA,
      tolerance: TOLERANCE,
      minSamples: MIN_SAMPLES,
      championHoldoutMse: REGRESSION.championMse,
      effectScale,
    });
    const scenarios = Object.fromEntries(
      effects.map((s, i) => [
        s.name,
        runScenario(
          (rep) => regressionStream([5, i, rep], { rmseChange: s.rmseChange }, REGRESSION.weight, REGRESSION.maxLabels),
          { sequential: (st) => sequentialRegressionCanary(st, 10, options) },
          reps,
        ).sequential,
      ]),
    );
    return { effectScale, scenarios };
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const labels = (x: number | null) => (x === null ? '-' : String(Math.round(x)));

function printTable(title: string, scenarios: Record<string, Record<string, Summary>>) {
  console.log(`\n${title}`);
  console.log('scenario        strategy              rollback  promote  undecided  median labels to decision');
  for (const [scenario, strategies] of Object.entries(scenarios)) {
    for (const [name, s] of Object.entries(strategies)) {
      console.log(
        `${scenario.padEnd(15)} ${name.padEnd(21)} ${pct(s.rollbackRate).padStart(8)} ${pct(s.promoteRate).padStart(8)} ${pct(s.undecidedRate).padStart(10)}  ${labels(s.medianLabelsToDecision)}`,
      );
    }
  }
}

export const benchmark: Benchmark = {
  needs: 'nothing',
  run: async () => {
    const started = performance.now();
    const canaryResult = canary();
    printTable('canary (accuracy; rollback = worse, promote = not worse within the tolerance)', canaryResult.scenarios);
    const abResult = ab();
    printTable('A/B test (promote = challenger better, rollback = challenger worse)', abResult.scenarios);
    const regressionResult = regressionCanary();
    printTable('regression canary (squared errors)', regressionResult.scenarios);
    const sensitivity = mixingSensitivity();
    for (const s of sensitivity) {
      console.log(
        `tau ${s.tau}: as good rolled back ${pct(s.asGood.rollbackRate)}, promoted ${pct(s.asGood.promoteRate)} after ${labels(s.asGood.medianLabelsToDecision)}; clearly worse rolled back ${pct(s.clearlyWorse.rollbackRate)} after ${labels(s.clearlyWorse.medianLabelsToDecision)}`,
      );
    }
    const regressionSensitivity = regressionMixingSensitivity();
    console.log('\nregression canary, τ = effectScale × champion MSE (looks every 10 labels): rollback / promote / median labels');
    for (const { effectScale, scenarios } of regressionSensitivity) {
      const cells = Object.entries(scenarios).map(
        ([name, s]) => `${name} ${pct(s.rollbackRate)}/${pct(s.promoteRate)}/${labels(s.medianLabelsToDecision)}`,
      );
      console.log(`effectScale ${effectScale}: ${cells.join(', ')}`);
    }
    const synthetic = cbpeSynthetic(7);
    console.log(
      `\nCBPE (synthetic, covariate shift): mean absolute error ${synthetic.meanAbsError.toFixed(4)} vs raw confidence ${synthetic.rawConfidenceMeanAbsError.toFixed(4)} and reference accuracy ${synthetic.referenceAccuracyMeanAbsError.toFixed(4)}`,
    );
    const { weather, flights } = await cbpeStreams();
    for (const [name, s] of [
      ['weather', weather],
      ['flights', flights],
    ] as const) {
      console.log(
        `CBPE (${name}, ${s.windows} windows of ~${Math.round(s.meanRowsPerWindow)} rows, ${s.seeds.length} seeds): mean absolute error ${s.meanAbsError.toFixed(4)} vs raw confidence ${s.rawConfidenceMeanAbsError.toFixed(4)} and holdout accuracy ${s.holdoutAccuracyMeanAbsError.toFixed(4)}; sampling noise alone ${s.samplingNoise.toFixed(4)}; by segment ${Object.entries(
          s.bySegmentMeanAbsError,
        )
          .map(([segment, e]) => `${segment} ${e.toFixed(4)}`)
          .join(', ')}`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${REPS} repetitions per scenario in ${seconds.toFixed(1)} s`);
    return {
      alpha: ALPHA,
      tolerance: TOLERANCE,
      settings: {
        repetitions: REPS,
        batch: BATCH,
        minSamples: MIN_SAMPLES,
        championAccuracy: CHAMPION_ACCURACY,
        mixingVariance: CANARY_OPTIONS.mixingVariance,
        canary: CANARY,
        ab: AB,
        regression: { ...REGRESSION, margin: REGRESSION_OPTIONS.margin, mixingVariance: REGRESSION_OPTIONS.mixingVariance },
        effects: SCENARIOS,
        regressionEffects: REGRESSION_SCENARIOS,
      },
      canary: canaryResult,
      ab: abResult,
      regressionCanary: regressionResult,
      mixingSensitivity: sensitivity,
      regressionMixingSensitivity: regressionSensitivity,
      cbpe: { meanAbsError: (weather.meanAbsError + flights.meanAbsError) / 2, weather, flights, synthetic },
      seconds,
    };
  },
};
