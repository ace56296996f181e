/**
 * `npm run bench -- automl`: what the AutoML sweep costs and what it finds, each number against
 * an anchor measured in this same run.
 *   1. orchestration  the sweep workflow on Temporal vs runSweep with the activities in-process
 *   2. parallelism    the Temporal sweep at parallelism 2 vs parallelism 1 (2 cores)
 *   3. quality        best trial's holdout accuracy (or RMSE) vs scikit-learn on the same split, untuned,
 *                     and HistGradientBoosting and LightGBM tuned by Optuna at the same budget (quality.ts)
 *   4. sampler        TPE vs random search at equal trial budgets
 *   5. online         the online training mode vs full retraining, prequentially on drift-eval's
 *                     streams (online.ts); in-process, so alone it starts no stack
 * `--sections quality` (or any comma-separated list of orchestration, quality, sampler, online) runs only
 * those; the others' numbers stay as the last results file has them (`carriedOver` says from when).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../config/paths.ts';
import type { SweepResult } from '../../core/sweep-loop.ts';
import { rungs, waveSize } from '../../core/sweep-plan.ts';
import { describeConfig } from '../../core/search-space.ts';
import type { ModelSpec } from '../../core/spec.ts';
import type { LocalStack } from '../../stack/local.ts';
import { createHarness, taskSpec, type SweepSettings } from './harness.ts';
import { onlineVsRetrain, printOnline } from './online.ts';
import { printQuality, quality } from './quality.ts';
import { SPACE } from './spaces.ts';
import { weatherTask } from '../shared/datasets.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { median } from '../../core/stats/quantiles.ts';

type Harness = Awaited<ReturnType<typeof createHarness>>;

const ROUNDS = 3;
const SAMPLER_SEEDS = [1, 2, 3, 4, 5];
const SAMPLER_TRIALS = 20;
const SAMPLER_EPOCHS = 8;
const TPE_STARTUP = 6;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pts = (d: number) => `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} pt`;
const lastObjective = (r: SweepResult) => r.best.objective.at(-1)!;

/**
 * The best speedup `lanes` lanes could give this sweep: successive halving waits for a whole
 * rung before promoting, so a rung of n trials takes ceil(n / lanes) slots, and the top rung
 * (one trial) is serial. Counted in epochs (training time) and in rungs (the fixed cost per
 * rung: worker thread, TensorFlow.js, MLflow); the truth lies between.
 */
function idealSpeedup(spec: ModelSpec, result: SweepResult, lanes: number) {
  const epochs = rungs(spec.training.sweep);
  const size = waveSize(spec.training.sweep);
  const sum = { epochs: [0, 0], rungs: [0, 0] };
  for (let w = 0; w < result.trials.length; w += size) {
    const wave = result.trials.slice(w, w + size);
    epochs.forEach((e, r) => {
      const n = wave.filter((t) => t.objective.length > r).length;
      const span = e - (r > 0 ? epochs[r - 1] : 0);
      sum.epochs[0] += n * span;
      sum.epochs[1] += Math.ceil(n / lanes) * span;
      sum.rungs[0] += n;
      sum.rungs[1] += Math.ceil(n / lanes);
    });
  }
  return { epochWeighted: sum.epochs[0] / sum.epochs[1], rungCount: sum.rungs[0] / sum.rungs[1] };
}

/**
 * 1 and 2. One sweep spec (random sampler: identical work in every mode, whatever the timing),
 * run in-process, on Temporal at parallelism 2 and on Temporal at parallelism 1, alternating so
 * load drift hits all alike; round 0 warms up. Only the sweep itself is timed.
 */
async function orchestration(h: Harness) {
  const task = weatherTask();
  const spec = (parallelism: number) =>
    taskSpec(task, {
      families: SPACE,
      sampler: 'random',
      seed: 3,
      budget: { maxTrials: 27, maxEpochsPerTrial: 18, maxWallTime: '10m' },
      earlyStopping: { kind: 'asha', minEpochs: 2, reductionFactor: 3 },
      parallelism,
    });
  const modes = {
    'in-process p2': () => h.inProcess(task, spec(2)),
    'temporal p2': () => h.onTemporal(task, spec(2)),
    'temporal p1': () => h.onTemporal(task, spec(1)),
  };
  type Mode = keyof typeof modes;
  const timings: Record<Mode, number[]> = { 'in-process p2': [], 'temporal p2': [], 'temporal p1': [] };
  const training: Record<Mode, number[]> = { 'in-process p2': [], 'temporal p2': [], 'temporal p1': [] };
  const fingerprints = new Set<string>();
  let last: SweepResult | undefined;
  for (let round = 0; round <= ROUNDS; round++) {
    // Each round starts with a different mode, so no mode always follows the same one.
    const order = Object.keys(modes) as Mode[];
    for (const mode of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
      const { result, ms } = await modes[mode]();
      const trainMs = await h.trainingMs(result.sweepRunId);
      last = result;
      fingerprints.add(JSON.stringify(result.trials.map((t) => [t.config, t.objective])));
      if (round > 0) timings[mode].push(ms);
      if (round > 0) training[mode].push(trainMs);
      console.log(
        `  round ${round}${round === 0 ? ' (warm-up)' : ''} ${mode}: ${secs(ms)} (of which training in the trial threads, summed: ${secs(trainMs)})`,
      );
    }
  }
  const m = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, median(v)])) as Record<Mode, number>;
  const t = Object.fromEntries(Object.entries(training).map(([k, v]) => [k, median(v)])) as Record<Mode, number>;
  // Less sensitive than the median to other processes on the machine; reported beside it.
  const fastest = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.min(...v)]));
  const overhead = {
    anchor: 'in-process loop',
    anchorMs: m['in-process p2'],
    temporalMs: m['temporal p2'],
    ratio: m['temporal p2'] / m['in-process p2'],
    // Equal for equal work on a quiet machine: a ratio far from 1 means load, not orchestration.
    trainingMsRatio: t['temporal p2'] / t['in-process p2'],
  };
  const speedup = m['temporal p1'] / m['temporal p2'];
  const parallel = {
    anchor: 'parallelism 1',
    anchorMs: m['temporal p1'],
    parallelism2Ms: m['temporal p2'],
    speedup,
    efficiency: speedup / 2,
    idealSpeedup: idealSpeedup(spec(2), last!, 2),
  };
  console.log(`  overhead ratio ${overhead.ratio.toFixed(3)}; speedup at parallelism 2 ${speedup.toFixed(2)}x`);
  return {
    sweep: `${task.source}, random sampler seed 3, 27 trials in three waves of 9, ASHA rungs at 2/6/18 epochs (9, 3, 1 trials a wave), 39 trial rungs`,
    rounds: ROUNDS,
    identicalTrialsInAllRuns: fingerprints.size === 1,
    overhead,
    parallel,
    fastestMs: fastest,
    timingsMs: timings,
    trainingMs: training,
  };
}

/**
 * What a user who does not know good ranges would search: learning rates over four decades, L2
 * up to strong, widths 4-256, and the optimizers. Much of it trains badly, which is where a
 * sampler that learns where the good region is should pull ahead of random search.
 */
const WIDE_SPACE: SweepSettings['families'] = {
  softmax: {
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
    l2: { type: 'float', low: 1e-6, high: 0.3, log: true },
    optimizer: { type: 'categorical', values: ['adam', 'sgd', 'rmsprop'] },
  },
  mlp: {
    depth: { type: 'int', low: 1, high: 3 },
    width: { type: 'int', low: 4, high: 256, log: true },
    activation: { type: 'categorical', values: ['relu', 'tanh', 'elu'] },
    dropout: { type: 'float', low: 0, high: 0.6 },
    l2: { type: 'float', low: 1e-6, high: 0.3, log: true },
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
    optimizer: { type: 'categorical', values: ['adam', 'sgd', 'rmsprop'] },
  },
};

/** 4. TPE vs random on weather at the same trial budget and seeds (each seed: the same split and trial seeds). */
async function samplers(h: Harness) {
  const task = weatherTask();
  const runs: Record<'random' | 'tpe', { best: number; bestSoFar: number[]; guidedMean: number }[]> = { random: [], tpe: [] };
  for (const seed of SAMPLER_SEEDS) {
    for (const sampler of ['random', 'tpe'] as const) {
      // No early stopping: every trial gets the same epochs, and TPE learns after every wave of 2.
      const spec = taskSpec(task, {
        families: WIDE_SPACE,
        sampler,
        seed,
        budget: { maxTrials: SAMPLER_TRIALS, maxEpochsPerTrial: SAMPLER_EPOCHS, maxWallTime: '10m' },
        earlyStopping: { kind: 'none' },
        parallelism: 2,
        tpe: { startupTrials: TPE_STARTUP },
      });
      const { result, ms } = await h.inProcess(task, spec);
      const scores = result.trials.map((t) => t.objective.at(-1) ?? NaN).map((v) => (Number.isNaN(v) ? 0 : v));
      const bestSoFar = scores.map((_, i) => Math.max(...scores.slice(0, i + 1)));
      const guided = scores.slice(TPE_STARTUP);
      runs[sampler].push({ best: lastObjective(result), bestSoFar, guidedMean: guided.reduce((a, b) => a + b, 0) / guided.length });
      console.log(
        `  seed ${seed} ${sampler}: best val_accuracy ${lastObjective(result).toFixed(4)} (${describeConfig(result.best.config)}), mean of trials ${TPE_STARTUP + 1}-${SAMPLER_TRIALS} ${runs[sampler].at(-1)!.guidedMean.toFixed(4)}, ${secs(ms)}`,
      );
    }
  }
  const summary = (sampler: 'random' | 'tpe') => ({
    medianBest: median(runs[sampler].map((r) => r.best)),
    medianGuidedMean: median(runs[sampler].map((r) => r.guidedMean)),
    // Median over seeds of the best objective found within the first k trials, k = 1..budget.
    medianBestSoFar: Array.from({ length: SAMPLER_TRIALS }, (_, k) => median(runs[sampler].map((r) => r.bestSoFar[k]))),
  });
  const random = summary('random');
  const tpe = summary('tpe');
  return {
    task: task.source,
    budget: `${SAMPLER_TRIALS} trials x ${SAMPLER_EPOCHS} epochs, no early stopping, parallelism 2 (TPE updates after every 2 trials), TPE with ${TPE_STARTUP} random start-up trials; wide search space (bench/automl/index.ts WIDE_SPACE)`,
    anchor: 'random',
    seeds: SAMPLER_SEEDS,
    runs,
    random,
    tpe,
    tpeMinusRandom: { best: tpe.medianBest - random.medianBest, guidedMean: tpe.medianGuidedMean - random.medianGuidedMean },
  };
}

const SECTIONS = ['orchestration', 'quality', 'sampler', 'online'] as const;
type Section = (typeof SECTIONS)[number];
const RESULTS_FILE = join(PROJECT_ROOT, 'bench', 'results', 'automl.json');

/** `--sections quality` (comma-separated): run only these; all when absent. */
export function chosenSections(argv = process.argv): Section[] {
  const at = argv.indexOf('--sections');
  if (at < 0) return [...SECTIONS];
  const list = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (!list.length || unknown.length)
    throw new Error(`--sections: choose from ${SECTIONS.join(', ')} (comma-separated), got "${argv[at + 1] ?? ''}"`);
  return list as Section[];
}

/** The sections that sweep on the bench stack (Temporal, MLflow); `online` trains in-process. */
const needsStack = (sections: Section[]) => sections.some((s) => s !== 'online');

export async function automl(stack?: LocalStack) {
  const started = performance.now();
  const elapsed = () => `[${secs(performance.now() - started)}]`;
  const sections = chosenSections();
  // Sections not run keep their numbers from the last results file, which says when they were measured.
  const previous = sections.length < SECTIONS.length ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>) : {};
  const carriedOver = Object.fromEntries(
    SECTIONS.filter((s) => !sections.includes(s) && previous[s] !== undefined).map((s) => [
      s,
      (previous.carriedOver as Record<string, string>)?.[s] ?? previous.at,
    ]),
  );
  const h = needsStack(sections) ? await createHarness(stack!) : undefined;
  // Other work on this machine skews the timings; the load average says how much there was.
  const loadBefore = loadavg()[0];
  const run = async <T>(section: Section, title: string, measure: () => Promise<T>): Promise<T> => {
    if (!sections.includes(section)) return previous[section] as T;
    console.log(`${elapsed()} ${title}`);
    return measure();
  };
  const orch = await run('orchestration', '1+2. orchestration overhead and parallel efficiency (weather sweep)', () => orchestration(h!));
  const qual = await run('quality', '3. model quality vs scikit-learn, untuned and tuned', () => quality(h!, stack!));
  const samp = await run('sampler', '4. sampler efficiency: TPE vs random', () => samplers(h!));
  const onl = await run('online', '5. online updates vs full retraining on the drift-eval streams', () => onlineVsRetrain());

  const o = orch.overhead;
  const p = orch.parallel;
  console.log(`\n${elapsed()} automl summary`);
  for (const [section, at] of Object.entries(carriedOver)) console.log(`(${section}: not run, the numbers of ${at})`);
  const f = orch.fastestMs;
  console.log(
    `orchestration  sweep wall time, median of ${ROUNDS}: in-process loop (anchor) ${secs(o.anchorMs)} | temporal ${secs(o.temporalMs)} | ratio ${o.ratio.toFixed(3)} (${((o.ratio - 1) * 100).toFixed(1)}% extra; target < 5%)`,
  );
  console.log(
    `               fastest of ${ROUNDS}: in-process loop ${secs(f['in-process p2'])} | temporal ${secs(f['temporal p2'])} | ratio ${(f['temporal p2'] / f['in-process p2']).toFixed(3)}`,
  );
  console.log(
    `               same training work, its measured time temporal / in-process: ${o.trainingMsRatio.toFixed(3)} (1 on a quiet machine)`,
  );
  console.log(
    `parallelism    temporal sweep: parallelism 1 (anchor) ${secs(p.anchorMs)} | parallelism 2 ${secs(p.parallelism2Ms)} | speedup ${p.speedup.toFixed(2)}x | efficiency ${p.efficiency.toFixed(2)} (this sweep's shape allows at most ${p.idealSpeedup.epochWeighted.toFixed(2)}x-${p.idealSpeedup.rungCount.toFixed(2)}x)`,
  );
  printQuality(qual);
  const curve = (xs: number[]) =>
    [4, 8, 12, 16, 20]
      .filter((k) => k <= xs.length)
      .map((k) => `${k}: ${xs[k - 1].toFixed(3)}`)
      .join(', ');
  console.log(
    `sampler        weather, ${SAMPLER_TRIALS} trials, median over seeds ${SAMPLER_SEEDS.join(',')}: best val_accuracy random (anchor) ${samp.random.medianBest.toFixed(4)} | tpe ${samp.tpe.medianBest.toFixed(4)} | ${pts(samp.tpeMinusRandom.best)}`,
  );
  console.log(
    `               mean val_accuracy of trials ${TPE_STARTUP + 1}-${SAMPLER_TRIALS} (after TPE's start-up): random ${samp.random.medianGuidedMean.toFixed(4)} | tpe ${samp.tpe.medianGuidedMean.toFixed(4)} | ${pts(samp.tpeMinusRandom.guidedMean)}`,
  );
  console.log(`               best so far after k trials: random ${curve(samp.random.medianBestSoFar)}`);
  console.log(`                                           tpe    ${curve(samp.tpe.medianBestSoFar)}`);
  printOnline(onl);
  console.log(
    `(1-minute load average: ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end, on ${availableParallelism()} cores)`,
  );
  return {
    wallTimeMs: performance.now() - started,
    loadAverage: { start: loadBefore, end: loadavg()[0], cores: availableParallelism() },
    orchestration: orch,
    quality: qual,
    sampler: samp,
    online: onl,
    carriedOver,
  };
}

// `--sections online` alone needs no stack: bench/run.ts then starts none.
export const benchmark: Benchmark = needsStack(chosenSections())
  ? { needs: 'stack', run: automl }
  : { needs: 'nothing', run: () => automl() };
