/**
 * `npm run bench -- drift-eval`: do Perennial's policies keep a model fresh on real streams, and
 * how fast and how falsely do its drift detectors fire? Offline, in-process: the real training
 * code (trainTrial, wasm, fixed seeds) and the real pure monitoring and policy modules; no
 * Temporal, MLflow or model server, so `npm run bench -- drift-eval` starts none of them.
 *
 * 1. Prequential evaluation (core/prequential.ts) on four streams (bench/drift-eval/setup.ts): the
 *    weather demo's (Seattle, then New York), flights delays by calendar month, and two synthetic
 *    streams whose concept changes at known points (SEA, abrupt; rotating hyperplane, gradual),
 *    where retraining pays. Every strategy starts from the same initial model and retrains on the
 *    spec's training window (the most recent labelled rows) with one fixed configuration:
 *    - never retrained;
 *    - retrain on schedule after every window: the anchor "every window", the upper bound of
 *      freshness; and after every `everyK` windows. A scheduled model learns the whole training
 *      window and always serves next;
 *    - Perennial's policies, the same on every stream (examples/weather.yaml's `policies`, judged
 *      with its `monitoring` settings): one monitoring cycle per window, at the end of it, when
 *      its labels are in. Time for the policies is counted in cycles: cycle c happens at
 *      c x monitoring.interval, so the cooldown of 30s at an interval of 5s holds back policy
 *      retrains for 6 cycles (windows). A retrain is instant and goes through the retrain
 *      workflow's promotion gate: the challenger learns the training part of the pipeline's split
 *      and serves the next window only if it matches the champion on the most recent holdout
 *      (core/promotion.ts). Approval is taken as granted; the canary is not simulated.
 *    Reported against the anchor measured in the same run: accuracy gap in points and the share of
 *    its retrains. Plots: bench/results/drift-eval-<stream>.svg, each beside its Vega-Lite spec
 *    (drift-eval-<stream>.vl.json).
 * 2. Detector evaluation (bench/drift-eval/detector-eval.ts): ADWIN, DDM, Page-Hinkley on SEA (abrupt) and
 *    rotating-hyperplane (gradual) streams and no-change controls, five seeds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDuration } from '../../core/duration.ts';
import { compileRules } from '../../core/policy.ts';
import { beatsChampion } from '../../core/promotion.ts';
import { splitSnapshot } from '../../activities/data.ts';
import { describeConfig } from '../../core/search-space.ts';
import { evaluate, type Predictor } from '../../ml/bundle.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { renderChart } from '../../adapters/charts/render.ts';
import { detectorEvaluation } from './detector-eval.ts';
import { accuracyChart, ANCHOR, PERENNIAL, printDetectors, printStream } from './report.ts';
import {
  CONFIG,
  EPOCHS,
  flightsStream,
  hyperplanePrequentialStream,
  seaPrequentialStream,
  trainPredictor,
  TRAIN_SEEDS,
  weatherStream,
  type StreamSetup,
} from './setup.ts';
import {
  compareWithAnchor,
  everyWindows,
  INITIAL_MODEL,
  lastRows,
  PolicyMonitor,
  prequential,
  type PrequentialRun,
  type Row,
  type ServedWindow,
} from '../../core/prequential.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import type { PolicyDecision, SeedRun, StrategyScore, StrategySummary, StreamResult } from './results.ts';

const RESULTS = join(PROJECT_ROOT, 'bench', 'results');

interface Served {
  n: number;
  correct: number;
  /** Sum over the rows of -ln p(true class), p clipped to [1e-15, 1]. */
  lossSum: number;
  served: ServedWindow;
}

export async function driftEval(): Promise<object> {
  const started = performance.now();
  const prequentialResults: StreamResult[] = [];
  for (const setup of [weatherStream(), flightsStream(), seaPrequentialStream(), hyperplanePrequentialStream()]) {
    console.log(`\n${setup.name}: ${setup.about}`);
    const result = await evaluateStream(setup);
    printStream(result);
    prequentialResults.push(result);
  }
  console.log(`\ndetectors (river defaults) on seeded synthetic streams; a softmax regression trained on the first rows, then frozen`);
  const detectors = await detectorEvaluation(console.log);
  printDetectors(detectors);
  return {
    training: { config: describeConfig(CONFIG), epochs: EPOCHS, seeds: TRAIN_SEEDS, backend: 'wasm' },
    anchor: ANCHOR,
    prequential: prequentialResults,
    detectors,
    seconds: (performance.now() - started) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// prequential evaluation of one stream

async function evaluateStream(setup: StreamSetup): Promise<StreamResult> {
  const started = performance.now();
  const { spec, windows } = setup;
  const bySeed: SeedRun[] = [];
  let plot = '';
  for (const seed of TRAIN_SEEDS) {
    const { run, runs } = await runSeed(setup, seed);
    bySeed.push(run);
    if (!plot) {
      plot = join(RESULTS, `drift-eval-${setup.name}.svg`);
      mkdirSync(RESULTS, { recursive: true });
      const chart = await renderChart(accuracyChart(setup, runs, seed));
      writeFileSync(plot, chart.svg);
      writeFileSync(plot.replace(/\.svg$/, '.vl.json'), `${JSON.stringify(chart.spec, null, 2)}\n`);
    }
  }
  const initialLabels = lastRows(setup.initial, setup.trainRows).map((r) => String(r[spec.label.name]));
  const majority = mostFrequent(initialLabels);
  const production = windows.flatMap((w) => w.rows);
  const intervalMs = parseDuration(spec.monitoring.interval);
  return {
    stream: setup.name,
    about: setup.about,
    windows: windows.length,
    rows: production.length,
    windowLabels: setup.windowLabels,
    trainRows: setup.trainRows,
    majorityBaseline: production.filter((r) => String(r[spec.label.name]) === majority).length / production.length,
    seeds: TRAIN_SEEDS,
    strategies: Object.fromEntries(
      Object.keys(bySeed[0].strategies).map((name) => [name, summarize(bySeed.map((r) => r.strategies[name]))]),
    ),
    perennial: {
      // The policies' cooldown in monitoring cycles, i.e. in windows here.
      cooldownCycles: parseDuration(spec.policies.cooldown) / intervalMs,
      rulesInForce: compileRules(spec.policies).map(
        (r) => `${r.name}: ${JSON.stringify(r.when)} breaches ${r.breaches}/${r.within ?? r.breaches}${r.hardFloor ? ' hardFloor' : ''}`,
      ),
    },
    bySeed,
    seconds: (performance.now() - started) / 1000,
    // Relative to the project, so results carry no machine path.
    plot: relative(PROJECT_ROOT, plot),
  };
}

/** Every strategy, test-then-train, with models trained with one seed. */
async function runSeed(setup: StreamSetup, seed: number): Promise<{ run: SeedRun; runs: Record<string, PrequentialRun> }> {
  const { spec, windows } = setup;
  const models = modelBank(setup, seed);
  const outcomes = new Map<string, Promise<Served>>();
  // Deterministic models and predictions: strategies that serve the same model on a window share them.
  const serve = (model: string, w: number) => {
    const key = `${model}:${w}`;
    if (!outcomes.has(key))
      outcomes.set(
        key,
        models.predictor(model).then((p) => predictWindow(p, windows[w].rows, spec.label.name)),
      );
    return outcomes.get(key)!;
  };

  const runs: Record<string, PrequentialRun> = {};
  runs['never retrained'] = await prequential(windows.length, serve, () => false);
  runs[`every ${setup.everyK} windows`] = await prequential(windows.length, serve, everyWindows(setup.everyK));
  runs[ANCHOR] = await prequential(windows.length, serve, everyWindows(1));

  const monitor = new PolicyMonitor(spec);
  const decisions: PolicyDecision[] = [];
  runs[PERENNIAL] = await prequential(windows.length, serve, async (w, outcome, champion) => {
    const { fired } = monitor.observe(outcome.served, champion, (await models.predictor(champion)).profile);
    if (fired.length === 0) return false;
    monitor.retrainStarted();
    const gate = await models.holdoutGate(champion, w);
    if (gate.promoted) monitor.promoted();
    decisions.push({
      afterWindow: w,
      window: setup.windowLabels[w],
      rules: fired.map((f) => f.rule),
      reasons: fired.map((f) => f.reason),
      holdout: gate.holdout,
      promoted: gate.promoted,
    });
    return { serves: gate.promoted ? challengerThrough(w) : champion };
  });

  const comparison = compareWithAnchor(runs, ANCHOR);
  const strategies: Record<string, StrategyScore> = {};
  for (const [name, run] of Object.entries(runs)) {
    const served = await Promise.all(run.scores.map((s) => serve(s.model, s.window)));
    strategies[name] = {
      ...comparison[name],
      logLoss: served.reduce((a, o) => a + o.lossSum, 0) / served.reduce((a, o) => a + o.n, 0),
      retrainsAfter: run.retrainsAfter,
      promotionsAfter: run.promotionsAfter,
      accuracyByWindow: run.scores.map((s) => s.correct / s.n),
      rowsByWindow: run.scores.map((s) => s.n),
    };
  }
  models.dispose();
  return {
    run: { seed, strategies, decisions, rules: monitor.tally, trainings: models.trainings(), trainSeconds: models.trainMs() / 1000 },
    runs,
  };
}

function summarize(scores: StrategyScore[]): StrategySummary {
  const mean = (f: (s: StrategyScore) => number) => scores.reduce((a, s) => a + f(s), 0) / scores.length;
  const gaps = scores.map((s) => s.gapPoints);
  return {
    accuracy: mean((s) => s.accuracy),
    gapPoints: mean((s) => s.gapPoints),
    gapRangePoints: [Math.min(...gaps), Math.max(...gaps)],
    gapSePoints: mean((s) => s.gapSePoints),
    logLoss: mean((s) => s.logLoss),
    retrains: mean((s) => s.retrains),
    promotions: mean((s) => s.promotions),
    retrainShare: mean((s) => s.retrainShare),
  };
}

/** A Perennial challenger: the real pipeline's split of the training window ending with window w, trained on its training part. */
const challengerThrough = (w: number) => `challenger through ${w}`;

/**
 * The models of one stream, trained once each and shared by the strategies: INITIAL_MODEL on the
 * initial data; trainedThrough(w) on the training window ending with window w (a scheduled retrain,
 * always promoted); challengerThrough(w) as the retrain workflow trains one (activities/data.ts
 * splitSnapshot: the most recent holdoutFraction held out for the promotion gate, the rest shuffled
 * into training and validation; the fixed configuration needs no validation, so it goes unused as in
 * a sweep's best trial).
 */
function modelBank(setup: StreamSetup, seed: number) {
  const { spec } = setup;
  const cache = new Map<string, Promise<Predictor>>();
  let trainMs = 0;
  const trainingWindow = (w: number): Row[] =>
    lastRows([...setup.initial, ...setup.windows.slice(0, w + 1).flatMap((win) => win.rows)], setup.trainRows);
  const split = (w: number) => splitSnapshot(trainingWindow(w), spec.training.holdoutFraction, spec.training.sweep.seed);
  const rowsOf = (model: string): Row[] => {
    if (model === INITIAL_MODEL) return lastRows(setup.initial, setup.trainRows);
    const [, kind, w] = /^(through|challenger through) (\d+)$/.exec(model) ?? [];
    if (kind === 'through') return trainingWindow(Number(w));
    if (kind === 'challenger through') return split(Number(w)).train;
    throw new Error(`drift-eval: no model named ${model}`);
  };
  const predictor = (model: string): Promise<Predictor> => {
    if (!cache.has(model)) {
      cache.set(
        model,
        trainPredictor(spec, rowsOf(model), seed).then(({ predictor, trainMs: ms }) => {
          trainMs += ms;
          return predictor;
        }),
      );
    }
    return cache.get(model)!;
  };
  return {
    predictor,
    /** The retrain workflow's evaluate step: challenger vs champion on the most recent holdout, judged by core/promotion.ts. */
    async holdoutGate(champion: string, w: number) {
      const { holdout } = split(w);
      const labels = holdout.map((r) => String(r[spec.label.name]));
      const challenger = evaluate(await predictor(challengerThrough(w)), holdout, labels);
      const incumbent = evaluate(await predictor(champion), holdout, labels);
      const promoted = beatsChampion({ challenger, champion: incumbent }, spec.evaluation.minImprovement);
      return { promoted, holdout: { rows: holdout.length, challenger: challenger.accuracy, champion: incumbent.accuracy } };
    },
    trainings: () => cache.size,
    trainMs: () => trainMs,
    dispose: () => cache.forEach((p) => void p.then((predictor) => predictor.dispose())),
  };
}

function predictWindow(predictor: Predictor, rows: Row[], label: string): Served {
  const predictions = predictor.predict(rows);
  const truth = rows.map((r) => String(r[label]));
  const predicted = predictions.map((p) => p.label);
  return {
    n: rows.length,
    correct: predicted.filter((p, i) => p === truth[i]).length,
    lossSum: predictions.reduce((a, p, i) => a - Math.log(Math.max(p.probabilities[truth[i]] ?? 0, 1e-15)), 0),
    served: { rows, truth, predicted, probabilities: predictions.map((p) => p.probabilities) },
  };
}

function mostFrequent(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}

export const benchmark: Benchmark = { needs: 'nothing', run: () => driftEval() };
