/**
 * Feature standardisation and label encoding, fitted on the training rows and saved with the model
 * (preprocess.json), so training, evaluation and serving encode rows identically.
 */
import { parseNumeric } from '../core/validation.ts';

export interface Preprocessor {
  version: 1;
  /** Column order of the model input. */
  features: string[];
  /** Mean of each feature over its present training values. */
  means: number[];
  /** Population standard deviation (ddof = 0) of each feature; 1 when it is 0 or undefined. */
  stds: number[];
  /** Output order of the model's softmax. */
  classes: string[];
}

/**
 * Fits means and standard deviations (like scikit-learn's StandardScaler) on the present numeric
 * values of each feature. A feature with no present values gets mean 0 and std 1.
 * Non-numeric values are ignored here (validation rejects them before training).
 */
export function fitPreprocessor(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: string[],
  classes: string[],
): Preprocessor {
  if (features.length === 0) throw new Error('fitPreprocessor: no features');
  if (new Set(classes).size !== classes.length || classes.length < 2) {
    throw new Error(`fitPreprocessor: need at least two distinct classes, got [${classes.join(', ')}]`);
  }
  const means: number[] = [];
  const stds: number[] = [];
  for (const f of features) {
    // Welford's algorithm: stable single pass.
    let count = 0;
    let mean = 0;
    let m2 = 0;
    for (const row of rows) {
      const p = parseNumeric(row[f]);
      if (p.kind !== 'number') continue;
      count++;
      const delta = p.value - mean;
      mean += delta / count;
      m2 += delta * (p.value - mean);
    }
    const std = count > 0 ? Math.sqrt(m2 / count) : 0;
    means.push(count > 0 ? mean : 0);
    stds.push(std > 0 && Number.isFinite(std) ? std : 1);
  }
  return { version: 1, features: [...features], means, stds, classes: [...classes] };
}

/**
 * Row-major [rows.length x features.length] matrix of standardised features.
 * A missing value becomes the training mean, i.e. 0 after standardising. A present value that is
 * not a number throws a TypeError naming the row and feature.
 */
export function toMatrix(pre: Preprocessor, rows: ReadonlyArray<Record<string, unknown>>): Float32Array {
  const d = pre.features.length;
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let j = 0; j < d; j++) {
      const raw = row[pre.features[j]];
      const p = parseNumeric(raw);
      if (p.kind === 'number') out[i * d + j] = (p.value - pre.means[j]) / pre.stds[j];
      else if (p.kind === 'invalid') {
        throw new TypeError(`Row ${i + 1}: feature "${pre.features[j]}" is not a number: ${JSON.stringify(raw) ?? String(raw)}`);
      }
      // missing: stays 0
    }
  }
  return out;
}

/** Class indices (positions in pre.classes); an unknown label throws. */
export function labelIndex(pre: Preprocessor, labels: readonly string[]): Int32Array {
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
