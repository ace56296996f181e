/**
 * A full data-drift summary over 1,000,000 logged rows x 20 features (16 numeric, 4 category):
 * core/drift/data-drift.ts `dataDrift` (a test and a 20-bin histogram per feature) against the
 * same statistics in numpy/scipy (anchor: bench/drift/drift_reference.py in the project's Python venv,
 * scipy.stats.ks_2samp + np.histogram per numeric feature, np.bincount + scipy.stats.chisquare per
 * category feature). Both sides read the same binary file (.data/bench-drift/, written once,
 * seeded) and time only the statistics. Each side is a long-lived child process and they take
 * turns, one run at a time (a warm-up, then REPETITIONS rounds), so load from elsewhere on the
 * machine falls on both alike; medians are reported.
 *
 * Reported beside the anchor:
 * - dataDrift with the automatic choice (1M rows: Wasserstein / Jensen-Shannon), and with KS /
 *   chi-square forced by per-feature choices, the like-for-like comparison with ks_2samp;
 * - KS statistics, histograms and chi-square statistics checked against scipy/numpy;
 * - building the columns from 1M row objects (featureColumns), which a monitoring cycle over the
 *   prediction log also pays; not part of the comparison;
 * - memory over CYCLES monitoring cycles in one process (after a full gc each): the growth from
 *   cycle MEMORY_FROM_CYCLE to the last.
 *
 * The JS side is `node --expose-gc --import tsx bench/drift/index.ts --drift-child MANIFEST`, a
 * process of its own; no Temporal, MLflow or model server is started for this benchmark.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataDrift, featureColumns, type DataDriftReport, type FeatureColumns, type FeatureProfileLike } from '../../core/drift/data-drift.ts';
import type { DriftTestChoice } from '../../core/drift/catalogue.ts';
import { derive, type Rng } from '../../core/stats/rng.ts';
import { sampleSorted } from '../../core/stats/quantiles.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { VENV_BIN } from '../../stack/services.ts';
import type { Benchmark } from '../shared/benchmark.ts';

const ROWS = 1_000_000;
const REFERENCE_ROWS = 50_000;
const PROFILE_SAMPLE = 1000;
const BINS = 20;
const REPETITIONS = 5;
const COLUMN_REPETITIONS = 3;
const CYCLES = 30;
const MEMORY_FROM_CYCLE = 5;
const SEED = 20_240_611;
/** Bump when the recipes change: the data file is regenerated. */
const DATA_VERSION = 1;
const DATA_DIR = join(PROJECT_ROOT, '.data', 'bench-drift');
const MANIFEST = join(DATA_DIR, `drift-v${DATA_VERSION}.json`);

// ---------------------------------------------------------------------------------------------
// the data: seeded recipes, written once

interface NumericRecipe {
  name: string;
  kind: 'number';
  about: string;
  drifted: boolean;
  reference: (rng: Rng) => number;
  current: (rng: Rng) => number;
  /** Share of current rows without a value. */
  missing?: number;
}

interface CategoryRecipe {
  name: string;
  kind: 'category';
  about: string;
  drifted: boolean;
  categories: string[];
  /** Weights per category (0 = never seen on that side). */
  reference: number[];
  current: number[];
  missing?: number;
}

const normal = (mean: number, sd: number) => (rng: Rng) => mean + sd * rng.normal();
const lognormal = (scale: number) => (rng: Rng) => scale * Math.exp(0.5 * rng.normal());
const counts = (shift: number) => (rng: Rng) => Math.round(Math.exp(1 + 0.6 * rng.normal())) + shift;
const bimodal = (left: number) => (rng: Rng) => (rng.uniform() < left ? -2 + rng.normal() : 3 + rng.normal());
const studentT3 = (rng: Rng) => {
  const z = rng.normal();
  const chi = rng.normal() ** 2 + rng.normal() ** 2 + rng.normal() ** 2;
  return z / Math.sqrt(chi / 3);
};
const zipf = (k: number) => Array.from({ length: k }, (_, i) => 1 / (i + 1));

const RECIPES: Array<NumericRecipe | CategoryRecipe> = [
  { name: 'f00', kind: 'number', about: 'normal', drifted: false, reference: normal(0, 1), current: normal(0, 1) },
  { name: 'f01', kind: 'number', about: 'normal, mean +0.3 sd', drifted: true, reference: normal(0, 1), current: normal(0.3, 1) },
  { name: 'f02', kind: 'number', about: 'lognormal', drifted: false, reference: lognormal(1), current: lognormal(1) },
  { name: 'f03', kind: 'number', about: 'lognormal, scale x1.5', drifted: true, reference: lognormal(1), current: lognormal(1.5) },
  { name: 'f04', kind: 'number', about: 'uniform 0..100, 2% missing', drifted: false, reference: (r) => 100 * r.uniform(), current: (r) => 100 * r.uniform(), missing: 0.02 },
  { name: 'f05', kind: 'number', about: 'exponential', drifted: false, reference: (r) => -3 * Math.log(1 - r.uniform()), current: (r) => -3 * Math.log(1 - r.uniform()) },
  { name: 'f06', kind: 'number', about: 'counts (ties)', drifted: false, reference: counts(0), current: counts(0) },
  { name: 'f07', kind: 'number', about: 'counts +1', drifted: true, reference: counts(0), current: counts(1) },
  { name: 'f08', kind: 'number', about: 'normal(50, 10), 5% missing', drifted: false, reference: normal(50, 10), current: normal(50, 10), missing: 0.05 },
  { name: 'f09', kind: 'number', about: 'normal(50, 10), sd -> 13', drifted: true, reference: normal(50, 10), current: normal(50, 13) },
  { name: 'f10', kind: 'number', about: 'bimodal 70/30', drifted: false, reference: bimodal(0.7), current: bimodal(0.7) },
  { name: 'f11', kind: 'number', about: 'bimodal 70/30 -> 40/60', drifted: true, reference: bimodal(0.7), current: bimodal(0.4) },
  { name: 'f12', kind: 'number', about: 'uniform -1..1', drifted: false, reference: (r) => 2 * r.uniform() - 1, current: (r) => 2 * r.uniform() - 1 },
  { name: 'f13', kind: 'number', about: 'normal, mean +0.02 sd (below the thresholds)', drifted: false, reference: normal(0, 1), current: normal(0.02, 1) },
  { name: 'f14', kind: 'number', about: 'student-t(3), heavy tails', drifted: false, reference: studentT3, current: studentT3 },
  { name: 'f15', kind: 'number', about: '1e6 + normal (large offset)', drifted: false, reference: normal(1e6, 1), current: normal(1e6, 1) },
  { name: 'device', kind: 'category', about: '5 categories', drifted: false, categories: ['phone', 'desktop', 'tablet', 'tv', 'watch'], reference: [40, 25, 15, 12, 8], current: [40, 25, 15, 12, 8] },
  { name: 'region', kind: 'category', about: '6 categories, shares moved', drifted: true, categories: ['n', 'e', 's', 'w', 'c', 'x'], reference: [30, 20, 20, 10, 10, 10], current: [10, 20, 20, 10, 10, 30] },
  { name: 'product', kind: 'category', about: '30 categories (zipf)', drifted: false, categories: Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}`), reference: zipf(30), current: zipf(30) },
  { name: 'plan', kind: 'category', about: 'a new category (8%), 1% missing', drifted: true, categories: ['free', 'pro', 'team', 'enterprise'], reference: [60, 30, 10, 0], current: [55, 28, 9, 8], missing: 0.01 },
];

interface ManifestFeature {
  name: string;
  kind: 'number' | 'category';
  about: string;
  drifted: boolean;
  /** Byte offset of the column in the data file: ROWS little-endian float64 (NaN = missing) or int32 codes (-1 = missing). */
  offset: number;
  dtype: '<f8' | '<i4';
  categories?: string[];
}

interface Manifest {
  version: number;
  seed: number;
  rows: number;
  bins: number;
  /** The data file, relative to the manifest. */
  file: string;
  bytes: number;
  features: ManifestFeature[];
  /** The reference profile (ml/bundle.ts shape) of REFERENCE_ROWS rows from the reference recipes. */
  profile: { rows: number; features: Record<string, FeatureProfileLike & { n: number; missing: number }> };
}

function pick(rng: Rng, cumulative: number[]): number {
  const u = rng.uniform() * cumulative[cumulative.length - 1];
  for (let k = 0; k < cumulative.length; k++) if (u < cumulative[k]) return k;
  return cumulative.length - 1;
}

function cumulative(weights: number[]): number[] {
  let s = 0;
  return weights.map((w) => (s += w));
}

/** Writes the data file and its manifest (once per DATA_VERSION); returns the manifest path. */
function ensureData(): { manifest: string; generated: boolean; ms: number } {
  if (existsSync(MANIFEST)) {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
    const file = join(DATA_DIR, m.file);
    if (m.version === DATA_VERSION && existsSync(file) && statSync(file).size === m.bytes) return { manifest: MANIFEST, generated: false, ms: 0 };
  }
  if (endianness() !== 'LE') throw new Error('bench drift: the data file is written from little-endian typed arrays');
  const t0 = performance.now();
  mkdirSync(DATA_DIR, { recursive: true });
  const features: ManifestFeature[] = [];
  const profile: Manifest['profile'] = { rows: REFERENCE_ROWS, features: {} };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  RECIPES.forEach((recipe, j) => {
    const refRng = derive(SEED, 1, j);
    const curRng = derive(SEED, 2, j);
    const missRng = derive(SEED, 3, j);
    const missing = recipe.missing ?? 0;
    if (recipe.kind === 'number') {
      const ref = Array.from({ length: REFERENCE_ROWS }, () => recipe.reference(refRng));
      let mean = 0;
      let m2 = 0;
      ref.forEach((v, i) => {
        const d = v - mean;
        mean += d / (i + 1);
        m2 += d * (v - mean);
      });
      profile.features[recipe.name] = {
        n: ref.length,
        missing: 0,
        sample: sampleSorted(ref, PROFILE_SAMPLE),
        ...{ mean, std: Math.sqrt(m2 / ref.length), min: Math.min(...ref), max: Math.max(...ref) },
      };
      const column = new Float64Array(ROWS);
      for (let i = 0; i < ROWS; i++) {
        const v = recipe.current(curRng);
        column[i] = missing > 0 && missRng.uniform() < missing ? NaN : v;
      }
      features.push({ name: recipe.name, kind: 'number', about: recipe.about, drifted: recipe.drifted, offset, dtype: '<f8' });
      chunks.push(new Uint8Array(column.buffer));
      offset += column.byteLength;
    } else {
      const refCum = cumulative(recipe.reference);
      const curCum = cumulative(recipe.current);
      const refCounts: Record<string, number> = {};
      for (let i = 0; i < REFERENCE_ROWS; i++) {
        const key = recipe.categories[pick(refRng, refCum)];
        refCounts[key] = (refCounts[key] ?? 0) + 1;
      }
      profile.features[recipe.name] = { kind: 'category', n: REFERENCE_ROWS, missing: 0, counts: refCounts };
      const codes = new Int32Array(ROWS);
      for (let i = 0; i < ROWS; i++) {
        const code = pick(curRng, curCum);
        codes[i] = missing > 0 && missRng.uniform() < missing ? -1 : code;
      }
      features.push({ name: recipe.name, kind: 'category', about: recipe.about, drifted: recipe.drifted, offset, dtype: '<i4', categories: recipe.categories });
      chunks.push(new Uint8Array(codes.buffer));
      offset += codes.byteLength; // a multiple of 8 (ROWS is even), so float columns stay aligned
    }
  });
  const file = `drift-v${DATA_VERSION}.bin`;
  const tmp = join(DATA_DIR, `${file}.tmp`);
  writeFileSync(tmp, Buffer.concat(chunks));
  renameSync(tmp, join(DATA_DIR, file));
  const manifest: Manifest = { version: DATA_VERSION, seed: SEED, rows: ROWS, bins: BINS, file, bytes: offset, features, profile };
  writeFileSync(MANIFEST, JSON.stringify(manifest));
  return { manifest: MANIFEST, generated: true, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// the JS side (child process)

interface RawColumns {
  manifest: Manifest;
  numbers: Map<string, Float64Array>;
  codes: Map<string, Int32Array>;
}

function readData(manifestPath: string): RawColumns {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const bytes = readFileSync(join(dirname(manifestPath), manifest.file));
  const numbers = new Map<string, Float64Array>();
  const codes = new Map<string, Int32Array>();
  for (const f of manifest.features) {
    // copies: aligned, and independent of the file buffer
    const slice = bytes.buffer.slice(bytes.byteOffset + f.offset, bytes.byteOffset + f.offset + manifest.rows * (f.dtype === '<f8' ? 8 : 4));
    if (f.dtype === '<f8') numbers.set(f.name, new Float64Array(slice));
    else codes.set(f.name, new Int32Array(slice));
  }
  return { manifest, numbers, codes };
}

/** The columns featureColumns would build from these rows (NaN / code -1 = missing). */
function columnsOf(data: RawColumns): FeatureColumns {
  const out: FeatureColumns = {};
  for (const f of data.manifest.features) {
    if (f.kind === 'number') {
      const raw = data.numbers.get(f.name)!;
      const values = raw.filter((v) => !Number.isNaN(v));
      out[f.name] = { kind: 'number', values, missing: raw.length - values.length };
    } else {
      const raw = data.codes.get(f.name)!;
      const tally = new Array<number>(f.categories!.length).fill(0);
      let missing = 0;
      for (const c of raw) {
        if (c < 0) missing++;
        else tally[c]++;
      }
      const counts: Record<string, number> = {};
      f.categories!.forEach((name, k) => {
        if (tally[k] > 0) counts[name] = tally[k];
      });
      out[f.name] = { kind: 'category', counts, missing };
    }
  }
  return out;
}

/**
 * 1M row objects as the prediction log gives them (adapters/store/sqlite/predictions.ts: JSON.parse of each row's
 * features; missing values are null). Each row is JSON.parse of one template row with every value
 * then set from the columns: the objects JSON.parse makes, without formatting 16M doubles as text
 * first (which would dominate the benchmark's run time and is not what is measured).
 */
function rowsOf(data: RawColumns): Array<Record<string, unknown>> {
  const { manifest } = data;
  const names = manifest.features.map((f) => f.name);
  const template = JSON.stringify(Object.fromEntries(manifest.features.map((f) => [f.name, f.kind === 'number' ? 0.5 : f.categories![0]])));
  const numbers = manifest.features.map((f) => data.numbers.get(f.name));
  const codes = manifest.features.map((f) => data.codes.get(f.name));
  const categories = manifest.features.map((f) => f.categories ?? []);
  const rows = new Array<Record<string, unknown>>(manifest.rows);
  for (let i = 0; i < manifest.rows; i++) {
    const row = JSON.parse(template) as Record<string, unknown>;
    for (let j = 0; j < names.length; j++) {
      const num = numbers[j];
      if (num) {
        const v = num[i];
        row[names[j]] = Number.isNaN(v) ? null : v;
      } else {
        const code = codes[j]![i];
        row[names[j]] = code < 0 ? null : categories[j][code];
      }
    }
    rows[i] = row;
  }
  return rows;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** A full collection, including the array buffers V8 frees after a turn of the event loop. */
async function collect(): Promise<void> {
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function compact(report: DataDriftReport) {
  return {
    rows: report.rows,
    drifted: report.drifted,
    driftedShare: report.driftedShare,
    skipped: report.skipped,
    features: report.features.map((f) => ({ name: f.name, test: f.test, statistic: f.statistic, pValue: f.pValue, drifted: f.drifted, rows: f.rows, missing: f.missing, histogram: f.histogram })),
  };
}

type MemoryPoint = { cycle: number; ms: number; heapUsed: number; rss: number; arrayBuffers: number; external: number };

/**
 * The JS side: loads the data, then answers one command per stdin line with one JSON line:
 * `auto` / `ks` time one dataDrift (automatic / KS and chi-square forced), `report` gives both
 * reports, `cycles` runs the memory cycles, `columns` times featureColumns over 1M row objects.
 */
async function child(manifestPath: string): Promise<void> {
  const data = readData(manifestPath);
  const { manifest } = data;
  const columns = columnsOf(data);
  const profile = { features: manifest.profile.features };
  const forced: Record<string, DriftTestChoice> = Object.fromEntries(manifest.features.map((f) => [f.name, { test: f.kind === 'number' ? 'ks' : 'chisquare' }]));
  const reports: { auto?: DataDriftReport; ks?: DataDriftReport } = {};
  const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const timed = async (kind: 'auto' | 'ks') => {
    await collect();
    const t = performance.now();
    reports[kind] = dataDrift({ columns, profile, choices: kind === 'ks' ? forced : undefined, histogramBins: manifest.bins });
    return performance.now() - t;
  };

  reply({ ready: true, node: process.version, gcExposed: gc !== undefined });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'auto' || command === 'ks') reply({ ms: await timed(command) });
    else if (command === 'report') reply({ auto: compact(reports.auto!), ks: compact(reports.ks!) });
    else if (command === 'cycles') {
      // monitoring cycles: the same summary again and again in one process; memory after a full gc
      const memory: MemoryPoint[] = [];
      await collect();
      const m0 = process.memoryUsage();
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const t = performance.now();
        const report = dataDrift({ columns, profile, histogramBins: manifest.bins });
        const ms = performance.now() - t;
        if (report.features.length !== manifest.features.length) throw new Error('bench drift: a cycle skipped features');
        await collect();
        const m = process.memoryUsage();
        memory.push({ cycle, ms, heapUsed: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers, external: m.external });
      }
      reply({ before: { heapUsed: m0.heapUsed, rss: m0.rss, arrayBuffers: m0.arrayBuffers, external: m0.external }, memory });
    } else if (command === 'columns') {
      // building the columns from 1M row objects (what a cycle over the log starts with)
      const features = manifest.features.map((f) => ({ name: f.name, type: f.kind }));
      let t = performance.now();
      let rows: Array<Record<string, unknown>> | undefined = rowsOf(data);
      const rowsBuildMs = performance.now() - t;
      let built: FeatureColumns | undefined;
      const ms: number[] = [];
      let warmupMs = 0;
      for (let rep = 0; rep <= COLUMN_REPETITIONS; rep++) {
        await collect();
        t = performance.now();
        built = featureColumns(rows, features);
        if (rep === 0) warmupMs = performance.now() - t;
        else ms.push(performance.now() - t);
      }
      const sameAsFile = manifest.features.every((f) => {
        const a = built![f.name];
        const b = columns[f.name];
        if (a.kind === 'number' && b.kind === 'number') return a.missing === b.missing && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);
        return a.kind === 'category' && b.kind === 'category' && a.missing === b.missing && JSON.stringify(Object.entries(a.counts).sort()) === JSON.stringify(Object.entries(b.counts).sort());
      });
      // Dropped so the next command's memory figures do not count a million row objects.
      // eslint-disable-next-line no-useless-assignment
      rows = undefined;
      built = undefined;
      reply({ warmupMs, ms, medianMs: median(ms), rowsBuildMs, sameAsFile });
    } else if (command === 'quit') break;
    else reply({ error: `unknown command ${JSON.stringify(command)}` });
  }
  process.exit(0);
}

type Report = ReturnType<typeof compact>;

type PythonFeature =
  | { name: string; kind: 'number'; ks: number; pValue: number; edges: number[]; reference: number[]; current: number[]; n: number; refN: number }
  | { name: string; kind: 'category'; chisquare: number; pValue: number; categories: string[]; counts: number[] };

/** A child process answering one JSON line per command line. */
class LineChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;
  private stderr = '';
  private exited: Error | undefined;

  constructor(
    private readonly name: string,
    command: string,
    args: string[],
  ) {
    this.proc = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(line);
      } else this.lines.push(line);
    });
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = new Error(`${this.name} exited (${signal ?? code}):\n${this.stderr}`);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  /** The next JSON line. */
  next<T>(): Promise<T> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as T);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<string>((resolve, reject) => (this.waiting = { resolve, reject })).then((l) => JSON.parse(l) as T);
  }

  ask<T>(command: string): Promise<T> {
    this.proc.stdin.write(`${command}\n`);
    return this.next<T>();
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.stdin.end('quit\n');
    await done;
  }

  kill(): void {
    if (!this.exited) this.proc.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// the benchmark

export async function drift() {
  const data = ensureData();
  const manifest = JSON.parse(readFileSync(data.manifest, 'utf8')) as Manifest;
  const nNumeric = manifest.features.filter((f) => f.kind === 'number').length;
  const nCategory = manifest.features.length - nNumeric;
  console.log(
    `${manifest.rows.toLocaleString('en-US')} rows x ${manifest.features.length} features (${nNumeric} numeric, ${nCategory} category), ` +
      `${manifest.features.filter((f) => f.drifted).length} drifted by construction; data ${data.generated ? `generated in ${(data.ms / 1000).toFixed(1)} s` : 'reused'}: ${join(DATA_DIR, manifest.file)}`,
  );

  // Both sides stay up and take turns, one run at a time, so load from elsewhere on the machine
  // falls on both alike.
  const js = new LineChild('the JS side', process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', fileURLToPath(import.meta.url), '--drift-child', data.manifest]);
  const py = new LineChild('bench/drift/drift_reference.py', join(VENV_BIN, 'python'), [join(PROJECT_ROOT, 'bench', 'drift', 'drift_reference.py'), data.manifest, '--serve']);
  try {
    const jsInfo = await js.next<{ node: string; gcExposed: boolean }>();
    const pyInfo = await py.next<{ numpy: string; scipy: string }>();
    console.log(`  node ${jsInfo.node} (dataDrift, child process${jsInfo.gcExposed ? ', --expose-gc' : ''}) and numpy ${pyInfo.numpy} / scipy ${pyInfo.scipy} (anchor) take turns: a warm-up, then ${REPETITIONS} runs each ...`);
    const sides = {
      anchor: () => py.ask<{ ms: number }>('run'),
      ks: () => js.ask<{ ms: number }>('ks'),
      auto: () => js.ask<{ ms: number }>('auto'),
    };
    type Side = keyof typeof sides;
    const order: Side[] = ['anchor', 'ks', 'auto'];
    const times: Record<Side, { warmupMs: number; ms: number[] }> = { anchor: { warmupMs: 0, ms: [] }, ks: { warmupMs: 0, ms: [] }, auto: { warmupMs: 0, ms: [] } };
    for (const side of order) times[side].warmupMs = (await sides[side]()).ms;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // rotate who goes first
      for (let k = 0; k < order.length; k++) {
        const side = order[(rep + k) % order.length];
        times[side].ms.push((await sides[side]()).ms);
      }
    }
    const reports = await js.ask<{ auto: Report; ks: Report }>('report');
    const reference = await py.ask<{ features: PythonFeature[] }>('report');
    await py.quit();
    console.log(`  ${CYCLES} monitoring cycles in one process, then featureColumns over 1M row objects ...`);
    const cycles = await js.ask<{ before: Omit<MemoryPoint, 'cycle' | 'ms'>; memory: MemoryPoint[] }>('cycles');
    const columnTimes = await js.ask<{ warmupMs: number; ms: number[]; medianMs: number; rowsBuildMs: number; sameAsFile: boolean }>('columns');
    await js.quit();
    return summarize(manifest, { node: jsInfo.node, gcExposed: jsInfo.gcExposed, numpy: pyInfo.numpy, scipy: pyInfo.scipy }, times, reports, reference.features, cycles, columnTimes);
  } finally {
    js.kill();
    py.kill();
  }
}

function summarize(
  manifest: Manifest,
  versions: { node: string; gcExposed: boolean; numpy: string; scipy: string },
  times: Record<'anchor' | 'ks' | 'auto', { warmupMs: number; ms: number[] }>,
  reports: { auto: Report; ks: Report },
  reference: PythonFeature[],
  cycles: { before: Omit<MemoryPoint, 'cycle' | 'ms'>; memory: MemoryPoint[] },
  columnTimes: { warmupMs: number; ms: number[]; medianMs: number; rowsBuildMs: number; sameAsFile: boolean },
) {
  // agreement with scipy/numpy: the KS-forced run computes the anchor's statistics
  let ksMaxDiff = 0;
  let ksPMaxDiff = 0;
  let histMaxDiff = 0;
  let chiMaxRelDiff = 0;
  let chiPMaxDiff = 0;
  for (const ref of reference) {
    const ours = reports.ks.features.find((f) => f.name === ref.name);
    if (!ours) throw new Error(`bench drift: ${ref.name} missing from the JS report`);
    if (ref.kind === 'number') {
      if (ours.test !== 'ks' || !('edges' in ours.histogram)) throw new Error(`bench drift: ${ref.name} was not tested with KS`);
      ksMaxDiff = Math.max(ksMaxDiff, Math.abs(ours.statistic - ref.ks));
      ksPMaxDiff = Math.max(ksPMaxDiff, Math.abs(ours.pValue! - ref.pValue));
      const h = ours.histogram;
      for (let i = 0; i < ref.edges.length; i++) histMaxDiff = Math.max(histMaxDiff, Math.abs(h.edges[i] - ref.edges[i]));
      for (let i = 0; i < ref.reference.length; i++) {
        histMaxDiff = Math.max(histMaxDiff, Math.abs(h.reference[i] - ref.reference[i] / ref.refN), Math.abs(h.current[i] - ref.current[i] / ref.n));
      }
    } else {
      if (ours.test !== 'chisquare') throw new Error(`bench drift: ${ref.name} was not tested with chi-square`);
      chiMaxRelDiff = Math.max(chiMaxRelDiff, Math.abs(ours.statistic - ref.chisquare) / Math.max(Math.abs(ref.chisquare), 1e-300));
      chiPMaxDiff = Math.max(chiPMaxDiff, Math.abs(ours.pValue! - ref.pValue));
    }
  }
  const expected = manifest.features.filter((f) => f.drifted).map((f) => f.name);
  const medians = { anchor: median(times.anchor.ms), ks: median(times.ks.ms), auto: median(times.auto.ms) };
  const ratios = { ksForced: medians.ks / medians.anchor, automatic: medians.auto / medians.anchor };
  const at = (cycle: number) => cycles.memory.find((m) => m.cycle === cycle)!;
  const from = at(MEMORY_FROM_CYCLE);
  const to = at(CYCLES);
  const growth = { heapUsed: to.heapUsed - from.heapUsed, rss: to.rss - from.rss, arrayBuffers: to.arrayBuffers - from.arrayBuffers, external: to.external - from.external };
  const cycleMs = median(cycles.memory.map((m) => m.ms));

  const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
  const kb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(0)} KB`;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`  medians of ${REPETITIONS} runs after a warm-up; ratio = time / anchor (below 1: faster than numpy/scipy)`);
  console.log(`    numpy/scipy (anchor)                ${ms(medians.anchor)}   1.00x   ks_2samp + np.histogram x${manifest.features.length - 4}, np.bincount + chisquare x4`);
  console.log(`    dataDrift, KS / chi-square forced   ${ms(medians.ks)}   ${ratios.ksForced.toFixed(2)}x   the same tests as the anchor`);
  console.log(`    dataDrift, automatic choice         ${ms(medians.auto)}   ${ratios.automatic.toFixed(2)}x   Wasserstein / Jensen-Shannon at 1M rows`);
  console.log(
    `    featureColumns, 1M row objects      ${ms(columnTimes.medianMs)}           not part of either side above (median of ${COLUMN_REPETITIONS}; columns ${columnTimes.sameAsFile ? 'equal' : 'DIFFERENT from'} the file's)`,
  );
  console.log(
    `  agreement with scipy/numpy: KS D max |diff| ${ksMaxDiff.toExponential(1)} (required <= ${KS_TOLERANCE}), KS p max |diff| ${ksPMaxDiff.toExponential(1)}; ` +
      `histogram edges and shares max |diff| ${histMaxDiff.toExponential(1)}; chi-square X² max rel. diff ${chiMaxRelDiff.toExponential(1)}, p max |diff| ${chiPMaxDiff.toExponential(1)}`,
  );
  console.log(`  drifted, automatic: ${reports.auto.drifted.join(', ')}  (by construction: ${expected.join(', ')})`);
  console.log(`  drifted, KS / chi-square forced: ${reports.ks.drifted.join(', ')}`);
  console.log(
    `  memory over ${CYCLES} cycles (${versions.gcExposed ? 'after a full gc each' : 'gc not exposed'}; a cycle takes ${cycleMs.toFixed(0)} ms): cycle ${MEMORY_FROM_CYCLE} -> ${CYCLES}: ` +
      `heapUsed ${kb(growth.heapUsed)}, arrayBuffers ${kb(growth.arrayBuffers)}, rss ${kb(growth.rss)}  (at cycle ${CYCLES}: heapUsed ${mb(to.heapUsed)}, arrayBuffers ${mb(to.arrayBuffers)} = the data the child holds, rss ${mb(to.rss)})`,
  );
  if (ksMaxDiff > KS_TOLERANCE) throw new Error(`bench drift: KS statistics differ from scipy by ${ksMaxDiff}`);
  if (!columnTimes.sameAsFile) throw new Error('bench drift: featureColumns over the row objects differs from the file columns');

  const runs = (t: { warmupMs: number; ms: number[] }) => ({ median: median(t.ms), runs: t.ms, warmup: t.warmupMs });
  return {
    anchor: 'numpy/scipy (bench/drift/drift_reference.py)',
    data: {
      rows: manifest.rows,
      features: manifest.features.map(({ name, kind, about, drifted }) => ({ name, kind, about, drifted })),
      referenceRows: manifest.profile.rows,
      profileSample: PROFILE_SAMPLE,
      bins: manifest.bins,
      seed: manifest.seed,
      file: join('.data', 'bench-drift', manifest.file),
    },
    repetitions: REPETITIONS,
    versions,
    ms: { anchor: runs(times.anchor), ksForced: runs(times.ks), automatic: runs(times.auto), featureColumns: { median: columnTimes.medianMs, runs: columnTimes.ms, warmup: columnTimes.warmupMs, rowsBuildMs: columnTimes.rowsBuildMs } },
    ratios,
    agreement: { ksStatisticMaxAbsDiff: ksMaxDiff, ksTolerance: KS_TOLERANCE, ksPValueMaxAbsDiff: ksPMaxDiff, histogramMaxAbsDiff: histMaxDiff, chiSquareMaxRelDiff: chiMaxRelDiff, chiSquarePValueMaxAbsDiff: chiPMaxDiff },
    drifted: { automatic: reports.auto.drifted, ksForced: reports.ks.drifted, byConstruction: expected },
    features: reports.auto.features.map((f) => {
      const k = reports.ks.features.find((x) => x.name === f.name)!;
      const about = manifest.features.find((x) => x.name === f.name)!.about;
      return { name: f.name, about, automatic: { test: f.test, statistic: f.statistic, drifted: f.drifted }, forced: { test: k.test, statistic: k.statistic, pValue: k.pValue, drifted: k.drifted }, rows: f.rows, missing: f.missing };
    }),
    memory: { gcExposed: versions.gcExposed, cycles: CYCLES, growthFromCycle: MEMORY_FROM_CYCLE, growth, cycleMedianMs: cycleMs, before: cycles.before, perCycle: cycles.memory },
  };
}

const KS_TOLERANCE = 1e-12;

if (process.argv.includes('--drift-child') && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await child(process.argv[process.argv.indexOf('--drift-child') + 1]);
}

export const benchmark: Benchmark = { needs: 'nothing', run: () => drift() };
