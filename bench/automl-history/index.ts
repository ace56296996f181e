/**
 * `npm run bench -- automl-history`: sweeps that learn from earlier sweeps (spec
 * `training.sweep.history`, core/sweep-history.ts) against cold sweeps, on successive retrain
 * points of the weather and flights streams of bench/drift-eval.
 *
 * At each retrain point a cold sweep (TPE, nothing earlier) and a warm sweep (the same budget,
 * seed and data, plus the trials of the warm sweeps at the earlier points and the previous
 * best's configuration as its first trial) run on that point's training window. The first point
 * has no history: both chains share its cold sweep. Measured per later point and seed: the trials
 * each needs to reach the cold sweep's best objective (validation accuracy; the cold sweep reaches
 * it by definition), and the warm best minus the cold best.
 *
 * In-process: runSweep (core/sweep-loop.ts) with the rungs trained in training threads
 * (ml/training-threads.ts) and the history handed over in memory, ranked and weighted by the
 * same pure functions as the readSweepHistory activity (whose MLflow reading
 * test/workflows/sweep-history.test.ts covers). Ages are the windows' calendar distance.
 */
import { availableParallelism, loadavg } from 'node:os';
import { shuffled, splitSnapshot } from '../../activities/data.ts';
import { lastRows, type Row } from '../../core/prequential.ts';
import { describeConfig } from '../../core/search-space.ts';
import { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { ranksWithinSweep, type PriorTrial, type SweepHistory } from '../../core/sweep-history.ts';
import { runSweep, type SweepResult } from '../../core/sweep-loop.ts';
import { rungObjective } from '../../core/sweep-plan.ts';
import { median } from '../../core/stats/quantiles.ts';
import { closeTrainingThreads, trainInThread } from '../../ml/training-threads.ts';
import { trialOutcome, trialSeed } from '../../activities/trials.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { flightsStream, weatherStream, type StreamSetup } from '../drift-eval/setup.ts';

/** bench/automl's wide space: a user who does not know good ranges; much of it trains badly. */
const SPACE = {
  softmax: {
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
    l2: { type: 'float', low: 1e-6, high: 0.3, log: true },
    optimizer: { type: 'categorical', values: ['adam', 'sgd', 'rmsprop'] },
  },
  mlp: {
    depth: { type: 'int', low: 1, high: 3 },
    width: { type: 'int', low: 4, high: 128, log: true },
    activation: { type: 'categorical', values: ['relu', 'tanh', 'elu'] },
    dropout: { type: 'float', low: 0, high: 0.5 },
    l2: { type: 'float', low: 1e-6, high: 0.3, log: true },
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
    optimizer: { type: 'categorical', values: ['adam', 'sgd', 'rmsprop'] },
  },
};
const TRIALS = 12;
const EPOCHS = 8;
const STARTUP = 4;
const SEEDS = [1, 2, 3];
const HISTORY = { weight: 0.5, halfLife: '180d', startFromChampion: true } as const;
/** Rows each flights retrain learns from: a seeded sample of its month (the full 10,000 would take too long here). */
const FLIGHTS_ROWS = 2000;
const DAYS_PER_WINDOW = 30;

interface RetrainPoint {
  label: string;
  /** Windows since the stream's start: the history's age is measured in these. */
  window: number;
  rows: Row[];
}

/** Weather: every 6th window of 30 days (Seattle 2014, then New York), the last 365 labelled rows. */
function weatherPoints(stream: StreamSetup): RetrainPoint[] {
  return [5, 11, 17, 23].map((w) => {
    const seen = [...stream.initial, ...stream.windows.slice(0, w + 1).flatMap((x) => x.rows)];
    return { label: `${stream.windowLabels[w]} (${stream.windows[w].segment})`, window: w, rows: lastRows(seen, stream.trainRows) };
  });
}

/** Flights: February to May, each month's seeded sample. */
function flightsPoints(stream: StreamSetup): RetrainPoint[] {
  return [0, 1, 2, 3].map((w) => ({
    label: stream.windowLabels[w],
    window: w,
    rows: shuffled(stream.windows[w].rows, 17 + w).slice(0, FLIGHTS_ROWS),
  }));
}

function sweepSpec(stream: StreamSetup, seed: number, warm: boolean): ModelSpec {
  return ModelSpec.parse({
    name: `history-${stream.name}`,
    features: stream.spec.features,
    label: stream.spec.label,
    training: {
      holdoutFraction: 0.2,
      sweep: {
        families: SPACE,
        sampler: 'tpe',
        seed,
        budget: { maxTrials: TRIALS, maxEpochsPerTrial: EPOCHS, maxWallTime: '30m' },
        // No early stopping: every trial's objective is on the same epochs, and TPE learns after every wave of 2.
        earlyStopping: { kind: 'none' },
        parallelism: 2,
        tpe: { startupTrials: STARTUP },
        ...(warm ? { history: HISTORY } : {}),
      },
    },
  });
}

/** One sweep on a retrain point's rows; `history` for a warm one. */
async function sweepOn(spec: ModelSpec, point: RetrainPoint, history?: SweepHistory): Promise<SweepResult> {
  const settings = spec.training.sweep;
  const { train, validation } = splitSnapshot(point.rows, spec.training.holdoutFraction, settings.seed);
  const labelled = (rows: Row[]) => ({ rows, labels: rows.map((r) => String(r[spec.label.name])) });
  return runSweep(spec, {
    startSweepRun: async () => ({ experimentId: 'bench', runId: `sweep-${point.window}`, artifactUri: '' }),
    trainTrialRung: async (request) => {
      if (request.config.family === 'warmStart') throw new Error('no warm starts in this benchmark');
      const result = await trainInThread({
        config: { family: request.config.family, params: request.config.params },
        features: spec.features,
        classes: labelClasses(spec.label),
        train: labelled(train),
        validation: labelled(validation),
        seed: trialSeed(settings.seed, request.trial),
        fromEpoch: request.fromEpoch,
        toEpoch: request.toEpoch,
        backend: 'wasm',
      });
      return trialOutcome(`trial-${request.trial}`, rungObjective(result.history.map((e) => e.valAccuracy)), result);
    },
    closeTrial: async () => {},
    finishSweepRun: async () => {},
    ...(history ? { readHistory: async () => history } : {}),
    now: () => Date.now(),
  });
}

/** What readSweepHistory would hand the sweep at `point`: earlier sweeps' trials, most recent first, and the last best as champion. */
function historyAt(point: RetrainPoint, earlier: { point: RetrainPoint; result: SweepResult }[]): SweepHistory {
  const trials: PriorTrial[] = [...earlier].reverse().flatMap(({ point: then, result }) => {
    const objectives = result.trials.map((t) => t.objective[0] ?? NaN);
    const ranks = ranksWithinSweep(objectives, 'maximize');
    const ageDays = (point.window - then.window) * DAYS_PER_WINDOW;
    return result.trials.map((t, i) => ({
      runId: `${then.window}/${i}`,
      config: t.config,
      objective: objectives[i],
      rank: ranks[i],
      ageDays,
    }));
  });
  const last = earlier.at(-1)!.result;
  return { trials, sweeps: earlier.length, dropped: {}, champion: { version: String(earlier.length), config: last.best.config } };
}

const scores = (r: SweepResult) => r.trials.map((t) => t.objective.at(-1) ?? NaN).map((v) => (Number.isNaN(v) ? 0 : v));
/** 1-based count of trials until the first that reaches `target`; null when none does. */
const trialsToReach = (r: SweepResult, target: number) => {
  const i = scores(r).findIndex((v) => v >= target - 1e-12);
  return i < 0 ? null : i + 1;
};

async function streamRun(stream: StreamSetup, points: RetrainPoint[], log: (line: string) => void) {
  const perPoint: Record<string, unknown>[] = [];
  const rows: { cold: number; warm: number | null; diff: number }[] = [];
  for (const seed of SEEDS) {
    const warmChain: { point: RetrainPoint; result: SweepResult }[] = [];
    for (const [k, point] of points.entries()) {
      const cold = await sweepOn(sweepSpec(stream, seed, false), point);
      if (k === 0) {
        warmChain.push({ point, result: cold });
        log(`    seed ${seed} ${point.label}: cold best ${cold.best.objective.at(-1)!.toFixed(4)} (seeds the history)`);
        continue;
      }
      const history = historyAt(point, warmChain);
      const warm = await sweepOn(sweepSpec(stream, seed, true), point, history);
      warmChain.push({ point, result: warm });
      const coldBest = Math.max(...scores(cold));
      const warmBest = Math.max(...scores(warm));
      const entry = {
        seed,
        point: point.label,
        rows: point.rows.length,
        priorTrials: history.trials.length,
        coldBest,
        warmBest,
        warmMinusCold: warmBest - coldBest,
        trialsToColdBest: { cold: trialsToReach(cold, coldBest)!, warm: trialsToReach(warm, coldBest) },
        firstTrial: { cold: scores(cold)[0], warm: scores(warm)[0] },
        bestSoFar: {
          cold: scores(cold).map((_, i) => Math.max(...scores(cold).slice(0, i + 1))),
          warm: scores(warm).map((_, i) => Math.max(...scores(warm).slice(0, i + 1))),
        },
        best: { cold: describeConfig(cold.best.config), warm: describeConfig(warm.best.config) },
      };
      perPoint.push(entry);
      rows.push({ cold: entry.trialsToColdBest.cold, warm: entry.trialsToColdBest.warm, diff: entry.warmMinusCold });
      log(
        `    seed ${seed} ${point.label}: trials to the cold best ${coldBest.toFixed(4)}: cold ${entry.trialsToColdBest.cold}, warm ${entry.trialsToColdBest.warm ?? `not within ${TRIALS}`}; warm best ${warmBest.toFixed(4)} (${history.trials.length} prior trials)`,
      );
    }
  }
  // A warm sweep that never reached the cold best counts as TRIALS + 1 in the medians.
  const warmCounts = rows.map((r) => r.warm ?? TRIALS + 1);
  return {
    about: stream.about,
    points: points.map((p) => ({ label: p.label, window: p.window, rows: p.rows.length })),
    perPoint,
    summary: {
      medianTrialsToColdBest: { cold: median(rows.map((r) => r.cold)), warm: median(warmCounts) },
      meanTrialsToColdBest: { cold: mean(rows.map((r) => r.cold)), warm: mean(warmCounts) },
      warmReachedColdBest: `${rows.filter((r) => r.warm !== null).length} of ${rows.length}`,
      warmNoLaterThanCold: `${rows.filter((r) => r.warm !== null && r.warm <= r.cold).length} of ${rows.length}`,
      medianWarmMinusColdBest: median(rows.map((r) => r.diff)),
    },
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function automlHistory() {
  const started = performance.now();
  const loadBefore = loadavg()[0];
  const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`);
  const streams: Record<string, Awaited<ReturnType<typeof streamRun>>> = {};
  try {
    const weather = weatherStream();
    log(`weather: ${weather.about}`);
    streams.weather = await streamRun(weather, weatherPoints(weather), log);
    const flights = flightsStream();
    log(`flights: ${flights.about}`);
    streams.flights = await streamRun(flights, flightsPoints(flights), log);
  } finally {
    await closeTrainingThreads();
  }
  for (const [name, s] of Object.entries(streams)) {
    const m = s.summary;
    console.log(
      `${name.padEnd(8)} trials to reach the cold sweep's best, median over points x seeds: cold ${m.medianTrialsToColdBest.cold} | warm ${m.medianTrialsToColdBest.warm} (mean ${m.meanTrialsToColdBest.cold.toFixed(1)} | ${m.meanTrialsToColdBest.warm.toFixed(1)}); warm reached it in ${m.warmReachedColdBest}, no later than cold in ${m.warmNoLaterThanCold}; warm best - cold best, median ${(100 * m.medianWarmMinusColdBest).toFixed(1)} pt`,
    );
  }
  return {
    setup: `${TRIALS} trials x ${EPOCHS} epochs per sweep, no early stopping, parallelism 2, TPE with ${STARTUP} random start-up trials, seeds ${SEEDS.join(', ')}; bench/automl's wide space (softmax and mlp); warm: history ${JSON.stringify(HISTORY)} from the warm sweeps of the earlier points (ages: ${DAYS_PER_WINDOW} days per window); the objective is validation accuracy (mean of the last 3 epochs); "trials to the cold best" counts a warm sweep that never reached it as ${TRIALS + 1}`,
    anchor: 'cold sweep',
    wallTimeMs: performance.now() - started,
    loadAverage: { start: loadBefore, end: loadavg()[0], cores: availableParallelism() },
    streams,
  };
}

export const benchmark: Benchmark = { needs: 'nothing', run: automlHistory };
