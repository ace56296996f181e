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
import { describeConfig } from '../../core/search-space.ts';
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
  TRAIN_SEEDS,
  weatherStream,
  type StreamSetup,
} from './setup.ts';
import { modelBank, perennialPolicies, scoreRuns, servingOf, summarize } from './strategies.ts';
import { everyWindows, lastRows, prequential, type PrequentialRun } from '../../core/prequential.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import type { SeedRun, StreamResult } from './results.ts';

const RESULTS = join(PROJECT_ROOT, 'bench', 'results');

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
  const { windows } = setup;
  const models = modelBank(setup, seed);
  const serve = servingOf(setup, models);

  const runs: Record<string, PrequentialRun> = {};
  runs['never retrained'] = await prequential(windows.length, serve, () => false);
  runs[`every ${setup.everyK} windows`] = await prequential(windows.length, serve, everyWindows(setup.everyK));
  runs[ANCHOR] = await prequential(windows.length, serve, everyWindows(1));
  const perennial = perennialPolicies(setup, models);
  runs[PERENNIAL] = await prequential(windows.length, serve, perennial.retrainAfter);

  const strategies = await scoreRuns(runs, ANCHOR, serve);
  models.dispose();
  return {
    run: {
      seed,
      strategies,
      decisions: perennial.decisions,
      rules: perennial.monitor.tally,
      trainings: models.trainings(),
      trainSeconds: models.trainMs() / 1000,
    },
    runs,
  };
}

function mostFrequent(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}

export const benchmark: Benchmark = { needs: 'nothing', run: () => driftEval() };
