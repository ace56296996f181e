/**
 * Feature encoding and label encoding, fitted on the training rows and saved with the model
 * (preprocess.json), so training, evaluation and serving encode rows identically: serving never
 * re-derives anything from the spec, it replays exactly what preprocess.json records.
 *
 * Columns of the model input, in the spec's feature order:
 * - a `number` feature is one column, standardised: (value - mean) / std with the training mean
 *   and population std (ddof = 0; like scikit-learn's StandardScaler). A missing value becomes the
 *   training mean, i.e. 0. A present value that is not a number throws (validation rejects such
 *   snapshots before training).
 * - a `category` feature is `values.length` columns, one-hot over the spec's values in the
 *   spec's order. A missing value, or one not among `values`, is all zeros (never an error).
 * - image specs (`image: {height, width, channels}`): the numeric features, in order, are the
 *   height*width*channels pixels (row-major, channels last). They are scaled with ONE global mean
 *   and std computed over all pixel values of all training rows (not per pixel): convolution
 *   filters are shared across positions and expect the same scale everywhere, and per-pixel
 *   scaling would blow up nearly-constant border pixels (a pixel that is 0 in all but two images
 *   would map those two to huge values). Each numeric encoding records that global mean/std, so
 *   the encoding code path is the same as for tabular features.
 */
import { labelValue, parseNumeric } from '../core/validation.ts';
import type { FeatureSpec } from '../core/spec.ts';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export type FeatureEncoding =
  { name: string; type: 'number'; mean: number; std: number } | { name: string; type: 'category'; values: string[] };

export interface Preprocessor {
  version: 2;
  /** Spec feature names, in order (the raw row keys the model reads). */
  features: string[];
  /** One encoding per feature, in `features` order; the model input is their columns concatenated. */
  encodings: FeatureEncoding[];
  /** Width of the model input: numeric features + sum of category value counts. */
  nInputs: number;
  /** Output order of the model's softmax; [] for a regression model. */
  classes: string[];
  /**
   * A regression model's label scaling: it learns (label - mean) / std, so one learning rate
   * suits labels of any scale; predictions are scaled back.
   */
  target?: { mean: number; std: number };
  /** Image specs: the shape, and the global pixel mean/std used for every numeric feature. */
  image?: ImageShape & { mean: number; std: number };
}

/** The preprocess.json written before categorical features existed (still loadable). */
export interface PreprocessorV1 {
  version: 1;
  features: string[];
  means: number[];
  stds: number[];
  classes: string[];
}

/** A feature given by name only is numeric. */
export type FeatureInput = FeatureSpec | string;

export function asFeatureSpec(f: FeatureInput): FeatureSpec {
  return typeof f === 'string' ? { name: f, type: 'number' } : f;
}

/**
 * How a cell of a category feature is read: exactly as data validation reads it (core/validation.ts
 * labelValue, also used for labels), so what validation counts as an unknown category is what the
 * model encodes as all zeros. Strings are kept as they are (not trimmed) unless empty or
 * whitespace-only (missing); finite numbers are stringified (a CSV "3" and a JSON 3 are the same
 * category); undefined and null are missing; anything else becomes its JSON text. The result is
 * compared exactly with the spec's values.
 */
export function categoryKey(value: unknown): string | undefined {
  return labelValue(value) ?? undefined;
}

/**
 * Fits the encodings on the training rows (see the module comment). A numeric feature with no
 * present values gets mean 0 and std 1; a std of 0 becomes 1. Non-numeric values of numeric
 * features are ignored here (toMatrix rejects them).
 */
export function fitPreprocessor(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: ReadonlyArray<FeatureInput>,
  /** A classifier's classes, or the training labels of a regression model. */
  task: string[] | { targets: readonly string[] },
  image?: ImageShape,
): Preprocessor {
  if (features.length === 0) throw new Error('fitPreprocessor: no features');
  const classes = Array.isArray(task) ? task : [];
  if (Array.isArray(task) && (new Set(classes).size !== classes.length || classes.length < 2)) {
    throw new Error(`fitPreprocessor: need at least two distinct classes, got [${classes.join(', ')}]`);
  }
  const specs = features.map(asFeatureSpec);
  const names = specs.map((f) => f.name);
  if (new Set(names).size !== names.length) throw new Error(`fitPreprocessor: duplicate feature names in [${names.join(', ')}]`);
  for (const f of specs) {
    if (f.type === 'category' && (f.values.length === 0 || new Set(f.values).size !== f.values.length)) {
      throw new Error(`fitPreprocessor: category feature "${f.name}" needs distinct values, got [${f.values.join(', ')}]`);
    }
  }
  const numeric = specs.filter((f) => f.type === 'number').map((f) => f.name);
  let imageScale: Preprocessor['image'];
  if (image) {
    const pixels = image.height * image.width * image.channels;
    if (!(pixels > 0) || numeric.length !== pixels) {
      throw new Error(
        `fitPreprocessor: an image of ${image.height}x${image.width}x${image.channels} needs ${pixels} numeric features (the pixels), the spec has ${numeric.length}`,
      );
    }
    const s = welford(rows, numeric);
    imageScale = { height: image.height, width: image.width, channels: image.channels, mean: s.mean, std: s.std };
  }
  const encodings: FeatureEncoding[] = specs.map((f) => {
    if (f.type === 'category') return { name: f.name, type: 'category', values: [...f.values] };
    if (imageScale) return { name: f.name, type: 'number', mean: imageScale.mean, std: imageScale.std };
    const s = welford(rows, [f.name]);
    return { name: f.name, type: 'number', mean: s.mean, std: s.std };
  });
  const pre: Preprocessor = { version: 2, features: names, encodings, nInputs: countInputs(encodings), classes: [...classes] };
  if (!Array.isArray(task)) {
    if (task.targets.length === 0) throw new Error('fitPreprocessor: a regression model needs labelled rows');
    const values = targetNumbers(task.targets);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    pre.target = { mean, std: std > 0 ? std : 1 };
  }
  if (imageScale) pre.image = imageScale;
  return pre;
}

/** Regression labels as numbers; a label that is not a finite number throws, naming its row. */
export function targetNumbers(labels: readonly string[]): Float64Array {
  const out = new Float64Array(labels.length);
  labels.forEach((label, i) => {
    const p = parseNumeric(label);
    if (p.kind !== 'number') throw new Error(`Label ${JSON.stringify(label)} (row ${i + 1}) is not a number`);
    out[i] = p.value;
  });
  return out;
}

/** A regression model's labels as it learns them: (label - mean) / std. */
export function scaledTargets(pre: Preprocessor, labels: readonly string[]): Float32Array {
  if (!pre.target) throw new Error('scaledTargets: not a regression preprocessor');
  const { mean, std } = pre.target;
  return Float32Array.from(targetNumbers(labels), (v) => (v - mean) / std);
}

/** Mean and population std over the present numeric values of the given columns, pooled. */
function welford(rows: ReadonlyArray<Record<string, unknown>>, columns: string[]): { mean: number; std: number } {
  // Welford's algorithm: stable single pass.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (const row of rows) {
    for (const c of columns) {
      const p = parseNumeric(row[c]);
      if (p.kind !== 'number') continue;
      count++;
      const delta = p.value - mean;
      mean += delta / count;
      m2 += delta * (p.value - mean);
    }
  }
  const std = count > 0 ? Math.sqrt(m2 / count) : 0;
  return { mean: count > 0 ? mean : 0, std: std > 0 && Number.isFinite(std) ? std : 1 };
}

function countInputs(encodings: readonly FeatureEncoding[]): number {
  return encodings.reduce((n, e) => n + (e.type === 'number' ? 1 : e.values.length), 0);
}

/** The model input description of a preprocessor (what ml/model.ts buildModel takes). */
export function modelInput(pre: Preprocessor): { nInputs: number; image?: ImageShape } {
  return pre.image
    ? { nInputs: pre.nInputs, image: { height: pre.image.height, width: pre.image.width, channels: pre.image.channels } }
    : { nInputs: pre.nInputs };
}

/**
 * Reads a parsed preprocess.json of either version; version 1 (numeric features only) becomes
 * the equivalent version 2, so models saved before categorical features still load and serve.
 */
export function upgradePreprocessor(raw: unknown): Preprocessor {
  const p = raw as {
    version?: number;
    encodings?: unknown;
    classes?: unknown;
    nInputs?: unknown;
    features?: unknown;
    means?: unknown;
    stds?: unknown;
  };
  if (p?.version === 2 && Array.isArray(p.encodings) && Array.isArray(p.classes)) {
    const nInputs = countInputs(p.encodings as FeatureEncoding[]);
    if (p.nInputs !== nInputs)
      throw new Error(`preprocess.json: nInputs is ${String(p.nInputs)} but the encodings have ${nInputs} columns`);
    return p as unknown as Preprocessor;
  }
  if (p?.version === 1 && Array.isArray(p.features) && Array.isArray(p.means) && Array.isArray(p.stds) && Array.isArray(p.classes)) {
    const v1 = p as unknown as PreprocessorV1;
    const encodings: FeatureEncoding[] = v1.features.map((name, i) => ({ name, type: 'number', mean: v1.means[i], std: v1.stds[i] }));
    return { version: 2, features: [...v1.features], encodings, nInputs: encodings.length, classes: [...v1.classes] };
  }
  throw new Error(`preprocess.json: unsupported format (version ${String(p?.version)})`);
}

/**
 * Row-major [rows.length x pre.nInputs] matrix of encoded features (see the module comment).
 * A present value of a numeric feature that is not a number throws a TypeError naming the row and
 * feature; category features never throw.
 */
export function toMatrix(
  pre: Preprocessor,
  rows: ReadonlyArray<Record<string, unknown>>,
  /** Given: a value that is not a number is reported here and encoded as missing; else it throws. */
  onInvalid?: (row: number, feature: string, raw: unknown) => void,
  /** What a missing number becomes: 0, the training mean after scaling (networks), or NaN (trees route it). */
  missing = 0,
): Float32Array {
  const d = pre.nInputs;
  const out = new Float32Array(rows.length * d);
  // Per category feature, value -> column offset within its block.
  const lookups = pre.encodings.map((e) => (e.type === 'category' ? new Map(e.values.map((v, i) => [v, i] as const)) : undefined));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let col = i * d;
    for (let j = 0; j < pre.encodings.length; j++) {
      const e = pre.encodings[j];
      const raw = row[e.name];
      if (e.type === 'number') {
        const p = parseNumeric(raw);
        if (p.kind === 'number') out[col] = (p.value - e.mean) / e.std;
        else {
          if (p.kind === 'invalid') {
            if (!onInvalid) throw new TypeError(`Row ${i + 1}: feature "${e.name}" is not a number: ${JSON.stringify(raw) ?? String(raw)}`);
            onInvalid(i, e.name, raw);
          }
          out[col] = missing;
        }
        col += 1;
      } else {
        const key = categoryKey(raw);
        const k = key === undefined ? undefined : lookups[j]!.get(key);
        if (k !== undefined) out[col + k] = 1;
        // missing or unknown: all zeros
        col += e.values.length;
      }
    }
  }
  return out;
}

/** Class indices (positions in pre.classes); an unknown label throws. */
export function labelIndex(pre: Pick<Preprocessor, 'classes'>, labels: readonly string[]): Int32Array {
  const index = new Map(pre.classes.map((c, i) => [c, i] as const));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(labels[i]);
    if (k === undefined) {
      throw new Error(`Label ${JSON.stringify(labels[i])} (row ${i + 1}) is not one of [${pre.classes.join(', ')}]`);
    }
    out[i] = k;
  }
  return out;
}
