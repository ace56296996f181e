/**
 * The automl bench's online section: the online training mode (core/online.ts) against full
 * retraining, evaluated prequentially on the streams of `npm run bench -- drift-eval` (SEA,
 * rotating hyperplane, weather; bench/drift-eval/setup.ts), with its machinery: core/prequential.ts
 * and the model bank, holdout gate and policy strategy of bench/drift-eval/strategies.ts. Per stream,
 * from the same initial model, with the same fixed configuration and seeded trainings:
 *   - every window (anchor): a full retrain on the spec's training window after every window, always promoted;
 *   - Perennial's policies: today's retrain mode, drift-eval's strategy (policies, cooldown, holdout gate);
 *   - online every window: after each window the champion continues on that window's labels for
 *     `online.epochs` epochs (ml/train.ts warmStart), always promoted, never a full retrain;
 *   - Perennial online: the online mode as the lifecycle runs it (workflows/lifecycle/monitor.ts,
 *     model-entity.ts, retrain.ts): the policies decide full retrains as above; in a cycle where
 *     none fired, onlineTrigger with the counts of afterOnlineStep decides an update (or a full
 *     retrain once the updates ran their course), which learns the training part of the split of
 *     the labels since the serving model's training data and serves only if it passes the holdout
 *     gate. Updates start no cooldown and keep the rules' breaches; a new champion of either kind
 *     gets fresh detectors.
 * Training time is each strategy's own: the seconds (and rows x epochs) of the models it trained,
 * promoted or not, the shared initial model excluded.
 */
import { splitSnapshot } from '../../activities/data.ts';
import { afterOnlineStep, INITIAL_ONLINE_STATE, isOnlineUpdate, onlineTrigger, type OnlineState } from '../../core/online.ts';
import type { OnlineSpec } from '../../core/online-spec.ts';
import { everyWindows, prequential, trainedThrough, type PrequentialRun, type Retrain } from '../../core/prequential.ts';
import { describeConfig } from '../../core/search-space.ts';
import { ModelSpec } from '../../core/spec.ts';
import { median } from '../../core/stats/quantiles.ts';
import { ANCHOR, PERENNIAL } from '../drift-eval/report.ts';
import type { StrategyScore, StrategySummary } from '../drift-eval/results.ts';
import {
  CONFIG,
  EPOCHS,
  hyperplanePrequentialStream,
  seaPrequentialStream,
  TRAIN_SEEDS,
  weatherStream,
  type StreamSetup,
} from '../drift-eval/setup.ts';
import { modelBank, perennialPolicies, scoreRuns, servingOf, summarize, type ModelBank, type Served } from '../drift-eval/strategies.ts';

export const ONLINE_EVERY = 'online every window';
export const PERENNIAL_ONLINE = 'Perennial online';
const STRATEGIES = [ANCHOR, PERENNIAL, ONLINE_EVERY, PERENNIAL_ONLINE] as const;
type Strategy = (typeof STRATEGIES)[number];

/** One step of Perennial online: an update, or a full retrain (a policy's, or the updates' limit). */
interface OnlineStep {
  afterWindow: number;
  kind: 'update' | 'full retrain';
  rules: string[];
  /** Rows an update learned from (the training part of its snapshot). */
  trainRows?: number;
  holdout: { rows: number; challenger: number; champion: number };
  promoted: boolean;
}

/**
 * drift-eval's counts of retrains and promotions would lump full retrains and updates together:
 * Work counts them apart.
 */
type Lumped = 'retrains' | 'promotions' | 'retrainShare';

/** What a strategy did and cost in one seed's run. */
type StrategyRun = Omit<StrategyScore, 'accuracyByWindow' | 'rowsByWindow' | 'retrainsAfter' | 'promotionsAfter' | Lumped> & Work;

interface Work {
  fullRetrains: number;
  updates: number;
  promotedFullRetrains: number;
  promotedUpdates: number;
  trainSeconds: number;
  /** Rows x epochs of every training: the cost without the machine's load. */
  trainRowEpochs: number;
}

type StrategyMean = Omit<StrategySummary, Lumped> & Work;

export interface OnlineStreamResult {
  stream: string;
  about: string;
  windows: number;
  rows: number;
  online: OnlineSpec;
  strategies: Record<Strategy, StrategyMean>;
  bySeed: Array<{
    seed: number;
    strategies: Record<Strategy, StrategyRun>;
    /** Perennial online's steps, one line each (describeStep). */
    perennialOnlineSteps: string[];
  }>;
  seconds: number;
}

export interface OnlineResult {
  about: string;
  training: { config: string; fullRetrainEpochs: number; backend: string };
  anchor: string;
  seeds: number[];
  /** Why the seeds are what they are (fewer than drift-eval's when the section would run long). */
  seedsNote: string;
  streams: OnlineStreamResult[];
  seconds: number;
}

const SEEDS = TRAIN_SEEDS;

/** The section; `streams` and `seeds` narrow it down for a quick look. */
export async function onlineVsRetrain({
  streams: setups = [seaPrequentialStream, hyperplanePrequentialStream, weatherStream],
  seeds = SEEDS,
  log = console.log,
}: { streams?: Array<() => StreamSetup>; seeds?: number[]; log?: (line: string) => void } = {}): Promise<OnlineResult> {
  const started = performance.now();
  const streams: OnlineStreamResult[] = [];
  for (const stream of setups) {
    const setup = stream();
    log(`  ${setup.name}: ${setup.about}`);
    streams.push(await evaluateStream(setup, seeds, log));
  }
  return {
    about:
      "Prequential accuracy (each window predicted by the model in service before its labels arrive) of full retraining and of the online training mode on drift-eval's streams; gaps in points against retraining every window, with the paired standard error over windows",
    training: { config: describeConfig(CONFIG), fullRetrainEpochs: EPOCHS, backend: 'wasm' },
    anchor: ANCHOR,
    seeds,
    seedsNote: "drift-eval's training seeds (TRAIN_SEEDS), all of them",
    streams,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The spec's online settings with the defaults, except batchRows: one window's labels (windows are
 * monitoring cycles), but never fewer than validation.minRows, which the spec demands of a batch
 * (weather's windows of 30 days hold about 30 rows, so it updates every second window).
 */
export function onlineSettingsFor(setup: StreamSetup): OnlineSpec {
  const rowsPerWindow = median(setup.windows.map((w) => w.rows.length));
  const batchRows = Math.max(rowsPerWindow, setup.spec.validation.minRows);
  const spec = ModelSpec.parse({ ...setup.spec, training: { ...setup.spec.training, mode: 'online', online: { batchRows } } });
  return spec.training.online!;
}

async function evaluateStream(setup: StreamSetup, seeds: number[], log: (line: string) => void): Promise<OnlineStreamResult> {
  const started = performance.now();
  const settings = onlineSettingsFor(setup);
  const bySeed: OnlineStreamResult['bySeed'] = [];
  const scores: Array<Record<Strategy, StrategyScore>> = [];
  for (const seed of seeds) {
    const t = performance.now();
    const run = await runSeed(setup, settings, seed);
    bySeed.push(run.record);
    scores.push(run.scores);
    log(`    seed ${seed}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const strategies = Object.fromEntries(
    STRATEGIES.map((name) => {
      const runs = bySeed.map((r) => r.strategies[name]);
      const mean = (f: (w: Work) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
      const work: Work = {
        fullRetrains: mean((r) => r.fullRetrains),
        updates: mean((r) => r.updates),
        promotedFullRetrains: mean((r) => r.promotedFullRetrains),
        promotedUpdates: mean((r) => r.promotedUpdates),
        trainSeconds: mean((r) => r.trainSeconds),
        trainRowEpochs: mean((r) => r.trainRowEpochs),
      };
      const { retrains: _r, promotions: _p, retrainShare: _s, ...summary } = summarize(scores.map((s) => s[name]));
      return [name, { ...summary, ...work }];
    }),
  ) as Record<Strategy, StrategyMean>;
  return {
    stream: setup.name,
    about: setup.about,
    windows: setup.windows.length,
    rows: setup.windows.reduce((a, w) => a + w.rows.length, 0),
    online: settings,
    strategies,
    bySeed,
    seconds: (performance.now() - started) / 1000,
  };
}

async function runSeed(setup: StreamSetup, settings: OnlineSpec, seed: number) {
  const windowCount = setup.windows.length;
  const models = modelBank(setup, seed);
  const serve = servingOf(setup, models);
  const runs = {} as Record<Strategy, PrequentialRun>;
  const trained = {} as Record<Strategy, string[]>;

  runs[ANCHOR] = await prequential(windowCount, serve, everyWindows(1));
  trained[ANCHOR] = runs[ANCHOR].retrainsAfter.map(trainedThrough);

  const policies = perennialPolicies(setup, models);
  runs[PERENNIAL] = await prequential(windowCount, serve, policies.retrainAfter);
  trained[PERENNIAL] = policies.trained;

  trained[ONLINE_EVERY] = [];
  runs[ONLINE_EVERY] = await prequential(windowCount, serve, (w, _outcome, champion) => {
    const update = models.continued(`online through ${w}`, {
      parent: champion,
      rows: setup.windows[w].rows,
      epochs: settings.epochs,
      learningRate: settings.learningRate,
    });
    trained[ONLINE_EVERY].push(update);
    return { serves: update };
  });

  const online = perennialOnline(setup, models, settings);
  runs[PERENNIAL_ONLINE] = await prequential(windowCount, serve, online.retrainAfter);
  trained[PERENNIAL_ONLINE] = online.trained;

  const scores = await scoreRuns(runs, ANCHOR, serve);
  const fullRetrains = (name: Strategy): Pick<Work, 'fullRetrains' | 'updates' | 'promotedFullRetrains' | 'promotedUpdates'> => {
    const run = runs[name];
    if (name === ONLINE_EVERY)
      return { fullRetrains: 0, updates: run.retrainsAfter.length, promotedFullRetrains: 0, promotedUpdates: run.promotionsAfter.length };
    if (name === PERENNIAL_ONLINE) {
      const count = (kind: OnlineStep['kind'], promoted?: boolean) =>
        online.steps.filter((s) => s.kind === kind && (promoted === undefined || s.promoted === promoted)).length;
      return {
        fullRetrains: count('full retrain'),
        updates: count('update'),
        promotedFullRetrains: count('full retrain', true),
        promotedUpdates: count('update', true),
      };
    }
    return { fullRetrains: run.retrainsAfter.length, updates: 0, promotedFullRetrains: run.promotionsAfter.length, promotedUpdates: 0 };
  };
  const strategies = Object.fromEntries(
    STRATEGIES.map((name) => {
      const { accuracy, gapPoints, gapSePoints, logLoss } = scores[name];
      const cost = models.costOf(trained[name]);
      return [
        name,
        { accuracy, gapPoints, gapSePoints, logLoss, ...fullRetrains(name), trainSeconds: cost.ms / 1000, trainRowEpochs: cost.rowEpochs },
      ];
    }),
  ) as Record<Strategy, StrategyRun>;
  models.dispose();
  return { record: { seed, strategies, perennialOnlineSteps: online.steps.map(describeStep) }, scores };
}

/** "after 3: update on 640 rows, holdout of 200: 0.870 vs champion 0.865, promoted" (full retrains name their rules). */
function describeStep(s: OnlineStep): string {
  const what = s.kind === 'update' ? `update on ${s.trainRows} rows` : `full retrain (${s.rules.join(', ')})`;
  const { rows, challenger, champion } = s.holdout;
  return `after ${s.afterWindow}: ${what}, holdout of ${rows}: ${challenger.toFixed(3)} vs champion ${champion.toFixed(3)}, ${s.promoted ? 'promoted' : 'kept the champion'}`;
}

/** Perennial's online mode over the windows: see the module comment. */
function perennialOnline(setup: StreamSetup, models: ModelBank, settings: OnlineSpec) {
  const { spec, windows } = setup;
  const policies = perennialPolicies(setup, models);
  const steps: OnlineStep[] = [];
  const updates: string[] = [];
  let counts: OnlineState = INITIAL_ONLINE_STATE;
  /** The last window the serving model's training data reaches (-1: the initial model's, before the stream). */
  let championThrough = -1;

  const fullRetrain = async (w: number, champion: string, asked: { rules: string[]; reasons: string[] }): Promise<Retrain> => {
    const retrain = await policies.retrain(w, champion, asked);
    const decision = policies.decisions.at(-1)!;
    const promoted = retrain !== false && retrain.serves !== champion;
    if (promoted) championThrough = w;
    counts = afterOnlineStep(counts, asked, promoted ? 'promoted' : 'not-better');
    steps.push({ afterWindow: w, kind: 'full retrain', rules: asked.rules, holdout: decision.holdout, promoted });
    return retrain;
  };

  const retrainAfter = async (w: number, outcome: Served, champion: string): Promise<Retrain> => {
    const { fired, summary } = await policies.observe(w, outcome, champion);
    if (fired.length > 0) return fullRetrain(w, champion, { rules: fired.map((f) => f.rule), reasons: fired.map((f) => f.reason) });
    // Retrains here finish within the cycle, so none is ever in the way (busy).
    const trigger = onlineTrigger(settings, counts, { newLabels: summary.newLabels, championVersion: champion, busy: false });
    if (!trigger) return false;
    if (!isOnlineUpdate(trigger)) return fullRetrain(w, champion, { rules: trigger.rules, reasons: [trigger.reason] });

    // The update's snapshot: the labels since the champion's training data (window sinceChampion), split as every retrain's.
    policies.monitor.updateStarted();
    const since = windows.slice(championThrough + 1, w + 1).flatMap((win) => win.rows);
    const split = splitSnapshot(since, spec.training.holdoutFraction, spec.training.sweep.seed);
    const update = models.continued(`online update after ${w}`, {
      parent: champion,
      rows: split.train,
      epochs: settings.epochs,
      learningRate: settings.learningRate,
    });
    updates.push(update);
    const gate = await models.gate(update, champion, split.holdout);
    if (gate.promoted) {
      policies.monitor.updatePromoted();
      championThrough = w;
    }
    counts = afterOnlineStep(counts, trigger, gate.promoted ? 'promoted' : 'not-better');
    steps.push({
      afterWindow: w,
      kind: 'update',
      rules: trigger.rules,
      trainRows: split.train.length,
      holdout: gate.holdout,
      promoted: gate.promoted,
    });
    return { serves: gate.promoted ? update : champion };
  };

  return {
    retrainAfter,
    steps,
    get trained() {
      return [...policies.trained, ...updates];
    },
  };
}

const pts = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(1)}`;
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const count = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export function printOnline(r: OnlineResult | undefined): void {
  if (!r) return console.log('online         (no numbers yet: run --sections online)');
  console.log(
    `online         prequential accuracy on drift-eval's streams, means over training seeds ${r.seeds.join(', ')}; gap to ${r.anchor} in points with its paired SE and [range over seeds]`,
  );
  for (const s of r.streams) {
    const o = s.online;
    console.log(
      `  ${s.stream}: ${s.windows} windows, ${s.rows} rows; online settings batchRows ${o.batchRows}, epochs ${o.epochs}, fullRetrainAfter ${o.fullRetrainAfter}, maxRejected ${o.maxRejected}${o.learningRate ? `, learningRate ${o.learningRate}` : ''}`,
    );
    console.log(
      `    ${pad('strategy', 22)}${pad('accuracy', 10)}${pad('vs anchor, pt (SE) [range]', 30)}${pad('log loss', 10)}${pad('full (promoted)', 17)}${pad('updates (promoted)', 20)}${pad('train s', 10)}rows x epochs`,
    );
    for (const [name, m] of Object.entries(s.strategies)) {
      const gap =
        name === r.anchor
          ? '(anchor)'
          : `${pts(m.gapPoints)} (${m.gapSePoints.toFixed(1)}) [${pts(m.gapRangePoints[0])}, ${pts(m.gapRangePoints[1])}]`;
      console.log(
        `    ${pad(name, 22)}${pad(m.accuracy.toFixed(3), 10)}${pad(gap, 30)}${pad(m.logLoss.toFixed(3), 10)}${pad(`${count(m.fullRetrains)} (${count(m.promotedFullRetrains)})`, 17)}${pad(`${count(m.updates)} (${count(m.promotedUpdates)})`, 20)}${pad(m.trainSeconds.toFixed(1), 10)}${Math.round(m.trainRowEpochs).toLocaleString('en')}`,
      );
    }
  }
}
