/**
 * `npm run bench -- drift-eval`: do Perennial's policies keep a model fresh on real streams, and
 * how fast and how falsely do its drift detectors fire? Offline, in-process: the real training
 * code (trainTrial, wasm, fixed seeds) and the real pure monitoring and policy modules; no
 * Temporal, MLflow or model server (the benchmark stack runs but is not used).
 *
 * 1. Prequential evaluation (bench/prequential.ts) on the weather demo's stream (Seattle, then New
 *    York) and on a flights-delay stream by calendar month (bench/drift-eval-setup.ts). Every
 *    strategy starts from the same initial model and, when it retrains, learns the spec's training
 *    window (the most recent labelled rows) with one fixed configuration:
 *    - never retrained;
 *    - retrain on schedule after every window: the anchor "every window", the upper bound of
 *      freshness; and after every `everyK` windows;
 *    - Perennial's policies (examples/weather.yaml's `policies`, judged with its `monitoring`
 *      settings): one monitoring cycle per window, at the end of it, when its labels are in.
 *      Time for the policies is counted in cycles: cycle c happens at c x monitoring.interval, so
 *      the cooldown of 30s at an interval of 5s holds back policy retrains for 6 cycles (windows).
 *      A retrain is instant and always promoted (no holdout comparison, approval or canary): the
 *      retrained model serves the next window.
 *    Reported against the anchor measured in the same run: accuracy gap in points and the share of
 *    its retrains. Plots: bench/results/drift-eval-<stream>.svg.
 * 2. Detector evaluation (bench/detector-eval.ts): ADWIN, DDM, Page-Hinkley on SEA (abrupt) and
 *    rotating-hyperplane (gradual) streams and no-change controls, five seeds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../core/duration.ts';
import { compileRules } from '../core/policy.ts';
import { describeConfig } from '../core/search-space.ts';
import type { Predictor } from '../ml/bundle.ts';
import type { LocalStack } from '../stack/local.ts';
import { PROJECT_ROOT } from '../stack/paths.ts';
import { accuracyChartSvg } from './accuracy-chart.ts';
import { detectorEvaluation, type DetectorEvaluation } from './detector-eval.ts';
import { CONFIG, EPOCHS, flightsStream, trainPredictor, TRAIN_SEED, weatherStream, type StreamSetup } from './drift-eval-setup.ts';
import {
  compareWithAnchor,
  everyWindows,
  INITIAL_MODEL,
  lastRows,
  PolicyMonitor,
  prequential,
  rollingAccuracy,
  streamAccuracy,
  type AnchorComparison,
  type PrequentialRun,
  type Row,
  type ServedWindow,
} from './prequential.ts';

const ANCHOR = 'every window';
const PERENNIAL = "Perennial's policies";
const RESULTS = join(PROJECT_ROOT, 'bench', 'results');

interface Served {
  n: number;
  correct: number;
  /** Sum over the rows of -ln p(true class), p clipped to [1e-15, 1]. */
  lossSum: number;
  served: ServedWindow;
}

/** A Perennial retrain: after which window, and the rules that fired with their evidence. */
interface PolicyDecision {
  afterWindow: number;
  window: string;
  rules: string[];
  reasons: string[];
}

interface StreamResult {
  stream: string;
  about: string;
  windows: number;
  rows: number;
  windowLabels: string[];
  trainRows: number;
  /** Accuracy of always predicting the initial data's most frequent class, for scale. */
  majorityBaseline: number;
  /**
   * Per strategy: accuracy and its gap to the anchor, retrains, and the prequential log loss (mean
   * -ln p(true class)), which separates models that accuracy cannot when all of them predict
   * mostly the majority class (flights).
   */
  strategies: Record<string, AnchorComparison & { logLoss: number; retrainsAfter: number[]; accuracyByWindow: number[]; rowsByWindow: number[] }>;
  perennial: { decisions: PolicyDecision[]; rules: PolicyMonitor['tally']; cooldownCycles: number; rulesInForce: string[] };
  trainings: number;
  trainSeconds: number;
  seconds: number;
  plot: string;
}

export async function driftEval(_stack?: LocalStack): Promise<object> {
  const started = performance.now();
  const prequentialResults: StreamResult[] = [];
  for (const setup of [weatherStream(), flightsStream()]) {
    console.log(`\n${setup.name}: ${setup.about}`);
    const result = await evaluateStream(setup);
    printStream(result);
    prequentialResults.push(result);
  }
  console.log(`\ndetectors (river defaults) on seeded synthetic streams; a softmax regression trained on the first rows, then frozen`);
  const detectors = await detectorEvaluation(console.log);
  printDetectors(detectors);
  return {
    training: { config: describeConfig(CONFIG), epochs: EPOCHS, seed: TRAIN_SEED, backend: 'wasm' },
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
  const models = modelBank(setup);
  const outcomes = new Map<string, Promise<Served>>();
  // Deterministic models and predictions: strategies that serve the same model on a window share them.
  const serve = (model: number, w: number) => {
    const key = `${model}:${w}`;
    if (!outcomes.has(key)) outcomes.set(key, models.predictor(model).then((p) => predictWindow(p, windows[w].rows, spec.label.name)));
    return outcomes.get(key)!;
  };

  const runs: Record<string, PrequentialRun> = {};
  runs['never retrained'] = await prequential(windows.length, serve, () => false);
  runs[`every ${setup.everyK} windows`] = await prequential(windows.length, serve, everyWindows(setup.everyK));
  runs[ANCHOR] = await prequential(windows.length, serve, everyWindows(1));

  const monitor = new PolicyMonitor(spec);
  const decisions: PolicyDecision[] = [];
  runs[PERENNIAL] = await prequential(windows.length, serve, async (w, outcome, model) => {
    const { fired } = monitor.observe(outcome.served, model, (await models.predictor(model)).profile);
    if (fired.length === 0) return false;
    monitor.retrained();
    decisions.push({ afterWindow: w, window: setup.windowLabels[w], rules: fired.map((f) => f.rule), reasons: fired.map((f) => f.reason) });
    return true;
  });

  const comparison = compareWithAnchor(runs, ANCHOR);
  const logLoss: Record<string, number> = {};
  for (const [name, run] of Object.entries(runs)) {
    const served = await Promise.all(run.scores.map((s) => serve(s.model, s.window)));
    logLoss[name] = served.reduce((a, o) => a + o.lossSum, 0) / served.reduce((a, o) => a + o.n, 0);
  }
  const plot = join(RESULTS, `drift-eval-${setup.name}.svg`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(plot, chart(setup, runs));
  models.dispose();
  const initialLabels = lastRows(setup.initial, setup.trainRows).map((r) => String(r[spec.label.name]));
  const majority = mostFrequent(initialLabels);
  const production = windows.flatMap((w) => w.rows);
  return {
    stream: setup.name,
    about: setup.about,
    windows: windows.length,
    rows: production.length,
    windowLabels: setup.windowLabels,
    trainRows: setup.trainRows,
    majorityBaseline: production.filter((r) => String(r[spec.label.name]) === majority).length / production.length,
    strategies: Object.fromEntries(
      Object.entries(runs).map(([name, run]) => [
        name,
        { ...comparison[name], logLoss: logLoss[name], retrainsAfter: run.retrainsAfter, accuracyByWindow: run.scores.map((s) => s.correct / s.n), rowsByWindow: run.scores.map((s) => s.n) },
      ]),
    ),
    perennial: {
      decisions,
      rules: monitor.tally,
      cooldownCycles: cooldownCycles(setup, monitor.intervalMs),
      rulesInForce: compileRules(spec.policies).map((r) => `${r.name}: ${JSON.stringify(r.when)} breaches ${r.breaches}/${r.within ?? r.breaches}${r.hardFloor ? ' hardFloor' : ''}`),
    },
    trainings: models.trainings(),
    trainSeconds: models.trainMs() / 1000,
    seconds: (performance.now() - started) / 1000,
    plot,
  };
}

/** Models named by the last window they learned from, trained once each on the spec's training window. */
function modelBank(setup: StreamSetup) {
  const cache = new Map<number, Promise<Predictor>>();
  let trainMs = 0;
  const labelledThrough = (model: number): Row[] => [...setup.initial, ...setup.windows.slice(0, model + 1).flatMap((w) => w.rows)];
  return {
    predictor(model: number): Promise<Predictor> {
      if (!cache.has(model)) {
        const rows = lastRows(model === INITIAL_MODEL ? setup.initial : labelledThrough(model), setup.trainRows);
        cache.set(
          model,
          trainPredictor(setup.spec, rows).then(({ predictor, trainMs: ms }) => {
            trainMs += ms;
            return predictor;
          }),
        );
      }
      return cache.get(model)!;
    },
    trainings: () => cache.size,
    trainMs: () => trainMs,
    dispose: () => cache.forEach((p) => p.then((predictor) => predictor.dispose())),
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

/** The policies' cooldown in monitoring cycles, i.e. in windows here. */
function cooldownCycles(setup: StreamSetup, intervalMs: number): number {
  return parseDuration(setup.spec.policies.cooldown) / intervalMs;
}

function mostFrequent(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}

// ---------------------------------------------------------------------------------------------
// plot and printing

const COLORS: Record<string, { color: string; dash?: string; width?: number }> = {
  'never retrained': { color: '#9e9e9e', dash: '6 4' },
  [ANCHOR]: { color: '#1f77b4', width: 2.5 },
  [PERENNIAL]: { color: '#d62728', width: 2.5 },
};

function chart(setup: StreamSetup, runs: Record<string, PrequentialRun>): string {
  const smoothing = setup.plotSmoothing;
  return accuracyChartSvg({
    title: `Prequential accuracy: ${setup.name}`,
    subtitle:
      smoothing > 1
        ? `Accuracy of the model in service on each window before learning it; trailing mean over ${smoothing} windows. ${setup.spec.name}: ${setup.windows.length} windows.`
        : `Accuracy of the model in service on each window (month) before learning it. ${setup.windows.length} windows.`,
    xLabels: setup.windowLabels,
    yLabel: 'accuracy',
    boundaries: setup.boundaries,
    series: Object.entries(runs).map(([name, run]) => ({
      name: `${name}: ${streamAccuracy(run.scores).toFixed(3)}, ${run.retrainsAfter.length} retrain${run.retrainsAfter.length === 1 ? '' : 's'}`,
      ...(COLORS[name] ?? { color: '#2ca02c', dash: '2 3' }),
      values: rollingAccuracy(run.scores, smoothing),
      ...(name === PERENNIAL ? { retrainsAfter: run.retrainsAfter } : {}),
    })),
  });
}

const pts = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(1)} pt`;
const pad = (s: string | number, n: number) => String(s).padEnd(n);

function printStream(r: StreamResult): void {
  console.log(`  ${r.windows} windows, ${r.rows} rows; every retrain learns the last ${r.trainRows} labelled rows; always the initial majority class: ${r.majorityBaseline.toFixed(3)}`);
  console.log(`  ${pad('strategy', 24)}${pad('accuracy', 10)}${pad('vs anchor (1 s.e.)', 21)}${pad('log loss', 10)}${pad('retrains', 10)}share of anchor's retrains`);
  for (const [name, s] of Object.entries(r.strategies)) {
    const gap = name === ANCHOR ? '' : `${pts(s.gapPoints)} (${s.gapSePoints.toFixed(1)})`;
    console.log(`  ${pad(name + (name === ANCHOR ? ' (anchor)' : ''), 24)}${pad(s.accuracy.toFixed(3), 10)}${pad(gap, 21)}${pad(s.logLoss.toFixed(3), 10)}${pad(s.retrains, 10)}${(100 * s.retrainShare).toFixed(0)}%`);
  }
  console.log(`  Perennial (cooldown = ${r.perennial.cooldownCycles} cycles = windows):`);
  for (const d of r.perennial.decisions) console.log(`    retrained after the window from ${d.window} (window ${d.afterWindow}): ${d.reasons.join('; ')}`);
  for (const [rule, t] of Object.entries(r.perennial.rules)) console.log(`    rule ${pad(rule, 16)} fired ${t.fired}, breached but held back ${t.heldBack}, not measurable in ${t.unmeasured} of ${r.windows - 1} cycles`);
  console.log(`  ${r.trainings} trainings (${r.trainSeconds.toFixed(1)} s), ${r.seconds.toFixed(1)} s in all; plot: ${r.plot}`);
}

function printDetectors(d: DetectorEvaluation): void {
  console.log(`  ${d.length} rows per stream, change every ${d.changeEvery}, seeds ${d.seeds.join(', ')}; model trained on the first ${d.trainRows} rows`);
  console.log(`  ${pad('stream', 22)}${pad('detector', 14)}${pad('detected', 10)}${pad('mean delay', 12)}${pad('median', 9)}${pad('mean delay per change (detected/seeds)', 58)}false alarms /10k rows`);
  for (const s of d.scores) {
    const perChange = s.delaysByChange.map((c) => `${c.at}: ${c.meanDelay === null ? '-' : Math.round(c.meanDelay)} (${c.detected}/${d.seeds.length})`).join(', ');
    const delay = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
    console.log(
      `  ${pad(s.stream, 22)}${pad(s.detector, 14)}${pad(s.changes ? `${s.detected}/${s.changes}` : '-', 10)}${pad(delay(s.meanDelay), 12)}${pad(delay(s.medianDelay), 9)}${pad(perChange || '(no change points)', 58)}${s.falseAlarmsPer10k.toFixed(2)}`,
    );
  }
  console.log(`  ${d.seconds.toFixed(1)} s`);
}
