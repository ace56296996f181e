/**
 * The real streams of bench/drift-eval/index.ts, and the one training configuration every retrain uses.
 *
 * - weather: the demo's data (stack/demo.ts weatherData): the initial model learns Seattle
 *   2012-2013, production is Seattle 2014 then New York 2012-2015, in windows of 30 days per city;
 *   spec, monitoring and policies are examples/weather.yaml's.
 * - flights: vega-datasets flights-3m.parquet, the largest flights file with dates (3 million US
 *   flights, January-June 2001), sampled to FLIGHTS_PER_MONTH rows per calendar month with a fixed
 *   seed (the stray July rows are dropped); January is the initial training data, February-June
 *   are the production windows. Label and features as bench/shared/datasets.ts flightsTask (delayed =
 *   arrival delay > 15 min; distance, departure hour, weekday, origin and destination among the 20
 *   most frequent airports, here counted on January). Monitoring and policies: examples/weather.yaml's,
 *   Perennial's recommended ones; training window: the last FLIGHTS_PER_MONTH rows (one month).
 *
 * - sea, hyperplane: the synthetic streams of the detector evaluation (core/drift/streams.ts, seed
 *   SYNTHETIC_SEED): SEA concepts with 10% label noise, thresholds 8, 9, 7, 9.5 switching every
 *   10,000 rows (abrupt), and a rotating hyperplane over 10 features whose two first weights drift
 *   during the 5,000 rows after each change point (gradual). The initial model learns the first
 *   2,000 rows; production is the rest in windows of 1,000 rows, so every change point starts a
 *   window. Monitoring and policies: examples/weather.yaml's; training window: the last 2,000 rows.
 *
 * Reading the parquet file needs pyarrow, so a one-off step in the project's Python environment
 * (.venv, which `npm run bench` creates) writes the seeded monthly sample to
 * .data/bench-drift-eval/ as JSON; later runs read that file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSpecFile } from '../../client/spec-file.ts';
import type { ModelConfig } from '../../core/search-space.ts';
import { ModelSpec } from '../../core/spec.ts';
import { labelClasses } from '../../core/spec-reading.ts';
import { hyperplaneStream, seaStream, type LabelledStream } from '../../core/drift/streams.ts';
import { loadTf } from '../../ml/backend.ts';
import { loadPredictor, servingFiles, type Predictor } from '../../ml/bundle.ts';
import { PROFILE_JSON } from '../../ml/bundle-format.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { trainTrial } from '../../ml/train.ts';
import { weatherData } from '../../stack/demo.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { VENV_BIN } from '../../stack/services.ts';
import { VEGA_DATA } from '../shared/datasets.ts';
import { consecutiveWindows, dayWindows, type Row, type StreamWindow } from '../../core/prequential.ts';

/**
 * The one configuration of every retrain: softmax regression with the family defaults (Adam,
 * learning rate 0.05, batch 64, no L2; ml/model.ts FAMILY_DEFAULTS), for the example's
 * maxEpochsPerTrial epochs. No sweep, so strategies differ only in when they retrain.
 */
export const CONFIG: ModelConfig = { family: 'softmax', params: {} };
export const EPOCHS = 27;
/** Seeds every training (weights and shuffles): examples/weather.yaml's sweep seed. */
export const TRAIN_SEED = 7;
/**
 * The prequential evaluation repeats every strategy with each of these training seeds: models of
 * the same data differ by about as much as strategies do on streams that barely drift (flights).
 */
export const TRAIN_SEEDS = [TRAIN_SEED, 8, 9];

export const WINDOW_DAYS = 30;
export const FLIGHTS_PER_MONTH = 10_000;
const FLIGHTS_SAMPLE_SEED = 20_010_101;
const TOP_AIRPORTS = 20;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_MS = 86_400_000;

export interface StreamSetup {
  name: string;
  about: string;
  spec: ModelSpec;
  /** What the initial model learns from (its last `trainRows` rows). */
  initial: Row[];
  windows: StreamWindow<Row>[];
  /** Label per window (its first day, or its month) for the report and the plot's x axis. */
  windowLabels: string[];
  /** Where the stream changes, for the plot. */
  boundaries: Array<{ at: number; label: string }>;
  /** The spec's training window: retrains learn from the most recent this many labelled rows. */
  trainRows: number;
  /** Scheduled strategy besides every window: retrain after every this many windows. */
  everyK: number;
  /** The plot shows a trailing mean over this many windows (1 = raw per-window accuracy). */
  plotSmoothing: number;
}

export function weatherStream(): StreamSetup {
  const spec = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  if (spec.training.window.kind !== 'lastRows') throw new Error('drift-eval expects examples/weather.yaml to train on lastRows');
  const { seed, traffic } = weatherData();
  const windows = dayWindows(traffic, {
    days: WINDOW_DAYS,
    dayOf: (r) => Date.parse(String(r.date)) / DAY_MS,
    segmentOf: (r) => String(r.location),
  });
  const firstNewYork = windows.findIndex((w) => w.segment === 'New York');
  return {
    name: 'weather',
    about: `Seattle 2012-2013 (initial), then Seattle 2014 and New York 2012-2015 in windows of ${WINDOW_DAYS} days`,
    spec,
    initial: seed,
    windows,
    windowLabels: windows.map((w) => String(w.rows[0].date)),
    boundaries: [
      { at: 0, label: 'Seattle 2014' },
      { at: firstNewYork, label: 'New York 2012-2015' },
    ],
    trainRows: spec.training.window.rows,
    everyK: 3,
    plotSmoothing: 3,
  };
}

export function flightsStream(): StreamSetup {
  const months = consecutiveWindows(flightsSample(), (r) => String(r.date).slice(0, 7));
  const [january, ...production] = months;
  const origins = topValues(january.rows, 'origin');
  const destinations = topValues(january.rows, 'destination');
  const toRow = flightRow(origins, destinations);
  const weather = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  const spec = ModelSpec.parse({
    name: 'flights-delay',
    description: 'Arrival delayed more than 15 minutes (vega-datasets flights-3m), by calendar month',
    features: [
      { name: 'distance', type: 'number' },
      { name: 'hour', type: 'number' },
      { name: 'weekday', type: 'category', values: WEEKDAYS },
      { name: 'origin', type: 'category', values: [...origins, 'other'] },
      { name: 'destination', type: 'category', values: [...destinations, 'other'] },
    ],
    label: { name: 'delayed', classes: ['delayed', 'on-time'] },
    training: { window: { kind: 'lastRows', rows: FLIGHTS_PER_MONTH } },
    monitoring: weather.monitoring,
    policies: weather.policies,
  });
  const windows = production.map((m, i) => ({ segment: m.segment, index: i, rows: m.rows.map(toRow) }));
  return {
    name: 'flights',
    about: `vega-datasets flights-3m: ${FLIGHTS_PER_MONTH} seeded rows per month, ${january.segment} (initial), then ${windows.map((w) => w.segment).join(', ')}`,
    spec,
    initial: january.rows.map(toRow),
    windows,
    windowLabels: windows.map((w) => w.segment),
    boundaries: [],
    trainRows: FLIGHTS_PER_MONTH,
    everyK: 3,
    plotSmoothing: 1,
  };
}

const SYNTHETIC_SEED = 1;
const SYNTHETIC_LENGTH = 40_000;
const SYNTHETIC_CHANGE_EVERY = 10_000;
const SYNTHETIC_INITIAL = 2_000;
const SYNTHETIC_WINDOW = 1_000;
const SYNTHETIC_TRAIN_ROWS = 2_000;

export function seaPrequentialStream(): StreamSetup {
  const stream = seaStream({ seed: SYNTHETIC_SEED, length: SYNTHETIC_LENGTH, changeEvery: SYNTHETIC_CHANGE_EVERY, noise: 0.1 });
  const thetas = stream.changePoints.map((c) => stream.thetas[c]);
  return syntheticSetup(
    'sea',
    `SEA concepts (abrupt), 10% label noise, theta ${stream.thetas[0]} then ${thetas.join(', ')}`,
    stream,
    (k) => `theta ${thetas[k]}`,
  );
}

export function hyperplanePrequentialStream(): StreamSetup {
  const stream = hyperplaneStream({ seed: SYNTHETIC_SEED, length: SYNTHETIC_LENGTH, changeEvery: SYNTHETIC_CHANGE_EVERY });
  return syntheticSetup('hyperplane', 'rotating hyperplane (gradual), 10 features, 5% label noise', stream, (k) => `drift ${k + 1} starts`);
}

/** A synthetic stream as rows x0, x1, ... and y; initial data, windows, and a boundary at each change point. */
function syntheticSetup(name: string, what: string, stream: LabelledStream, changeLabel: (k: number) => string): StreamSetup {
  const d = stream.rows[0].length;
  const weather = readSpecFile(join(PROJECT_ROOT, 'examples', 'weather.yaml'));
  const spec = ModelSpec.parse({
    name,
    description: what,
    features: Array.from({ length: d }, (_, j) => ({ name: `x${j}`, type: 'number' })),
    label: { name: 'y', classes: ['0', '1'] },
    training: { window: { kind: 'lastRows', rows: SYNTHETIC_TRAIN_ROWS } },
    monitoring: weather.monitoring,
    policies: weather.policies,
  });
  const rows: Row[] = stream.rows.map((r, i) => ({ ...Object.fromEntries(r.map((v, j) => [`x${j}`, v])), y: String(stream.labels[i]) }));
  const windows: StreamWindow<Row>[] = [];
  for (let start = SYNTHETIC_INITIAL; start < rows.length; start += SYNTHETIC_WINDOW) {
    windows.push({ segment: name, index: windows.length, rows: rows.slice(start, start + SYNTHETIC_WINDOW) });
  }
  const windowOf = (row: number) => (row - SYNTHETIC_INITIAL) / SYNTHETIC_WINDOW;
  return {
    name,
    about: `${what}; seed ${SYNTHETIC_SEED}, ${SYNTHETIC_LENGTH} rows, concept changes at ${stream.changePoints.join(', ')}; initial ${SYNTHETIC_INITIAL} rows, then windows of ${SYNTHETIC_WINDOW}`,
    spec,
    initial: rows.slice(0, SYNTHETIC_INITIAL),
    windows,
    windowLabels: windows.map((_, w) => `${(SYNTHETIC_INITIAL + w * SYNTHETIC_WINDOW) / 1000}k`),
    boundaries: stream.changePoints.map((c, k) => ({ at: windowOf(c), label: changeLabel(k) })),
    trainRows: SYNTHETIC_TRAIN_ROWS,
    everyK: 3,
    plotSmoothing: 1,
  };
}

/** flights-10k's preparation (bench/shared/datasets.ts flightsTask) for one raw flight. */
function flightRow(origins: string[], destinations: string[]) {
  return (r: Row): Row => {
    // "2001/01/01 00:47": local scheduled departure; Date.UTC keeps the weekday free of the machine's time zone.
    const [, y, mo, d, h, mi] = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+)$/.exec(String(r.date))!.map(Number);
    return {
      date: r.date,
      distance: r.distance,
      hour: h + mi / 60,
      weekday: WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()],
      origin: origins.includes(String(r.origin)) ? r.origin : 'other',
      destination: destinations.includes(String(r.destination)) ? r.destination : 'other',
      delayed: Number(r.delay) > 15 ? 'delayed' : 'on-time',
    };
  };
}

/** The most frequent values of a column (ties by name), counted without labels. */
function topValues(rows: Row[], key: string): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(String(r[key]), (counts.get(String(r[key])) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TOP_AIRPORTS)
    .map(([k]) => k);
}

/** pyarrow + numpy: a seeded sample of `per` rows of each full month, in date order, dates as flights-10k writes them. */
const SAMPLE_SCRIPT = `
import json, sys
import numpy as np, pyarrow.compute as pc, pyarrow.parquet as pq
src, out, per, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = pq.read_table(src)
month = pc.strftime(t['date'], format='%Y-%m').to_numpy(zero_copy_only=False)
rng = np.random.default_rng(seed)
keep = [np.sort(rng.choice(np.flatnonzero(month == m), per, replace=False)) for m in sorted(set(month)) if (month == m).sum() >= per]
s = t.take(np.concatenate(keep)).sort_by([('date', 'ascending')])
s = s.set_column(0, 'date', pc.strftime(s['date'], format='%Y/%m/%d %H:%M'))
json.dump(s.to_pylist(), open(out, 'w'))
`;

function flightsSample(): Row[] {
  const dir = join(PROJECT_ROOT, '.data', 'bench-drift-eval');
  const file = join(dir, `flights-3m-${FLIGHTS_PER_MONTH}-per-month-seed-${FLIGHTS_SAMPLE_SEED}.json`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const run = spawnSync(
      join(VENV_BIN, 'python'),
      ['-c', SAMPLE_SCRIPT, join(VEGA_DATA, 'flights-3m.parquet'), file, String(FLIGHTS_PER_MONTH), String(FLIGHTS_SAMPLE_SEED)],
      { encoding: 'utf8' },
    );
    if (run.status !== 0)
      throw new Error(`sampling flights-3m.parquet in ${VENV_BIN} failed (needs pyarrow and numpy): ${run.stderr || run.error?.message}`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Row[];
}

/** Trains CONFIG on `rows` (labels from the spec's label column) on this thread's wasm backend; `warm`: continues that model instead (ml/train.ts warmStart). */
export async function trainPredictor(
  spec: ModelSpec,
  rows: Row[],
  seed = TRAIN_SEED,
  warm?: { files: ModelFiles; epochs: number; learningRate?: number },
): Promise<{ predictor: Predictor; files: ModelFiles; trainMs: number }> {
  const { tf } = await loadTf('wasm');
  const labels = rows.map((r) => String(r[spec.label.name]));
  const config: ModelConfig = warm?.learningRate ? { ...CONFIG, params: { ...CONFIG.params, learningRate: warm.learningRate } } : CONFIG;
  const result = await trainTrial(
    {
      config,
      features: spec.features,
      classes: labelClasses(spec.label),
      train: { rows, labels },
      validation: { rows: [], labels: [] },
      seed,
      fromEpoch: 0,
      toEpoch: warm?.epochs ?? EPOCHS,
      warmStart: warm?.files,
    },
    undefined,
    { tf },
  );
  // As the trial activity keeps it for an online update (activities/trials.ts): drift is judged against the parent's data.
  if (warm) result.checkpoint[PROFILE_JSON] = warm.files[PROFILE_JSON];
  return { predictor: await loadPredictor(result.checkpoint, { tf }), files: servingFiles(result.checkpoint), trainMs: result.trainMs };
}
