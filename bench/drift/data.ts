/**
 * The data of the drift benchmark: 20 seeded feature recipes (16 numeric, 4 category; 7 drifted
 * by construction), written once to .data/bench-drift/ as little-endian columns with a JSON
 * manifest that both sides read (the JS child, child.ts, and the numpy/scipy anchor,
 * drift_reference.py), and the ways the JS side turns that file into columns or row objects.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import type { FeatureColumns, FeatureProfileLike } from '../../core/drift/data-drift.ts';
import { derive, type Rng } from '../../core/stats/rng.ts';
import { sampleSorted } from '../../core/stats/quantiles.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';

const ROWS = 1_000_000;
const REFERENCE_ROWS = 50_000;
export const PROFILE_SAMPLE = 1000;
const BINS = 20;
const SEED = 20_240_611;
/** Bump when the recipes change: the data file is regenerated. */
const DATA_VERSION = 1;
export const DATA_DIR = join(PROJECT_ROOT, '.data', 'bench-drift');
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
  {
    name: 'f04',
    kind: 'number',
    about: 'uniform 0..100, 2% missing',
    drifted: false,
    reference: (r) => 100 * r.uniform(),
    current: (r) => 100 * r.uniform(),
    missing: 0.02,
  },
  {
    name: 'f05',
    kind: 'number',
    about: 'exponential',
    drifted: false,
    reference: (r) => -3 * Math.log(1 - r.uniform()),
    current: (r) => -3 * Math.log(1 - r.uniform()),
  },
  { name: 'f06', kind: 'number', about: 'counts (ties)', drifted: false, reference: counts(0), current: counts(0) },
  { name: 'f07', kind: 'number', about: 'counts +1', drifted: true, reference: counts(0), current: counts(1) },
  {
    name: 'f08',
    kind: 'number',
    about: 'normal(50, 10), 5% missing',
    drifted: false,
    reference: normal(50, 10),
    current: normal(50, 10),
    missing: 0.05,
  },
  { name: 'f09', kind: 'number', about: 'normal(50, 10), sd -> 13', drifted: true, reference: normal(50, 10), current: normal(50, 13) },
  { name: 'f10', kind: 'number', about: 'bimodal 70/30', drifted: false, reference: bimodal(0.7), current: bimodal(0.7) },
  { name: 'f11', kind: 'number', about: 'bimodal 70/30 -> 40/60', drifted: true, reference: bimodal(0.7), current: bimodal(0.4) },
  {
    name: 'f12',
    kind: 'number',
    about: 'uniform -1..1',
    drifted: false,
    reference: (r) => 2 * r.uniform() - 1,
    current: (r) => 2 * r.uniform() - 1,
  },
  {
    name: 'f13',
    kind: 'number',
    about: 'normal, mean +0.02 sd (below the thresholds)',
    drifted: false,
    reference: normal(0, 1),
    current: normal(0.02, 1),
  },
  { name: 'f14', kind: 'number', about: 'student-t(3), heavy tails', drifted: false, reference: studentT3, current: studentT3 },
  { name: 'f15', kind: 'number', about: '1e6 + normal (large offset)', drifted: false, reference: normal(1e6, 1), current: normal(1e6, 1) },
  {
    name: 'device',
    kind: 'category',
    about: '5 categories',
    drifted: false,
    categories: ['phone', 'desktop', 'tablet', 'tv', 'watch'],
    reference: [40, 25, 15, 12, 8],
    current: [40, 25, 15, 12, 8],
  },
  {
    name: 'region',
    kind: 'category',
    about: '6 categories, shares moved',
    drifted: true,
    categories: ['n', 'e', 's', 'w', 'c', 'x'],
    reference: [30, 20, 20, 10, 10, 10],
    current: [10, 20, 20, 10, 10, 30],
  },
  {
    name: 'product',
    kind: 'category',
    about: '30 categories (zipf)',
    drifted: false,
    categories: Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}`),
    reference: zipf(30),
    current: zipf(30),
  },
  {
    name: 'plan',
    kind: 'category',
    about: 'a new category (8%), 1% missing',
    drifted: true,
    categories: ['free', 'pro', 'team', 'enterprise'],
    reference: [60, 30, 10, 0],
    current: [55, 28, 9, 8],
    missing: 0.01,
  },
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

export interface Manifest {
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
export function ensureData(): { manifest: string; generated: boolean; ms: number } {
  if (existsSync(MANIFEST)) {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
    const file = join(DATA_DIR, m.file);
    if (m.version === DATA_VERSION && existsSync(file) && statSync(file).size === m.bytes)
      return { manifest: MANIFEST, generated: false, ms: 0 };
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
      features.push({
        name: recipe.name,
        kind: 'category',
        about: recipe.about,
        drifted: recipe.drifted,
        offset,
        dtype: '<i4',
        categories: recipe.categories,
      });
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

export interface RawColumns {
  manifest: Manifest;
  numbers: Map<string, Float64Array>;
  codes: Map<string, Int32Array>;
}

export function readData(manifestPath: string): RawColumns {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const bytes = readFileSync(join(dirname(manifestPath), manifest.file));
  const numbers = new Map<string, Float64Array>();
  const codes = new Map<string, Int32Array>();
  for (const f of manifest.features) {
    // copies: aligned, and independent of the file buffer
    const slice = bytes.buffer.slice(
      bytes.byteOffset + f.offset,
      bytes.byteOffset + f.offset + manifest.rows * (f.dtype === '<f8' ? 8 : 4),
    );
    if (f.dtype === '<f8') numbers.set(f.name, new Float64Array(slice));
    else codes.set(f.name, new Int32Array(slice));
  }
  return { manifest, numbers, codes };
}

/** The columns featureColumns would build from these rows (NaN / code -1 = missing). */
export function columnsOf(data: RawColumns): FeatureColumns {
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
export function rowsOf(data: RawColumns): Array<Record<string, unknown>> {
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
