/**
 * Label-free signals from a window of predictions: the predicted-class shares against the training
 * label shares (predictionDrift), and how confident the model was (confidenceReport).
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O.
 */
import { jensenShannonSmoothed } from '../stats/jensen-shannon.ts';
import { plainSum } from '../stats/sums.ts';
import { countBy } from './shared.ts';

export interface PredictionDrift {
  /** Predictions in the window. */
  n: number;
  /** Training rows of the compared classes (sum of their classCounts). */
  referenceRows: number;
  /** The classes compared (see predictionDrift). */
  classes: string[];
  /** Share of the window predicted as each class (NaN for every class when n = 0; likewise reference). */
  current: Record<string, number>;
  /** Share of each class among the training labels. */
  reference: Record<string, number>;
  /** max over classes of |current - reference|, on the raw shares. */
  linf: number;
  /**
   * Jensen-Shannon distance (natural log, so in [0, sqrt(ln 2)]) of the two share vectors, each
   * share of 0 replaced by 1e-4 (PSI_EPSILON) and each vector then renormalised to sum 1, as
   * `scipy.spatial.distance.jensenshannon(p, q)` normalises its inputs.
   */
  jensenShannon: number;
}

/**
 * Distribution of the predicted classes in a window against the training label distribution
 * (ReferenceProfile.classCounts). The classes compared are `classes` when given, else the keys of
 * `classCounts`; in both cases followed by any other predicted value in first-seen order, so the
 * current shares always sum to 1. Distances are NaN when either side has no rows.
 */
export function predictionDrift(input: {
  predicted: readonly string[];
  classCounts: Readonly<Record<string, number>>;
  classes?: readonly string[];
}): PredictionDrift {
  const { predicted, classCounts } = input;
  const classes = [...(input.classes ?? Object.keys(classCounts))];
  const seen = new Set(classes);
  for (const p of predicted) {
    if (!seen.has(p)) {
      seen.add(p);
      classes.push(p);
    }
  }
  const counts = countBy(predicted);
  const n = predicted.length;
  const trainCount = (c: string) => (Object.hasOwn(classCounts, c) ? classCounts[c] : 0);
  const referenceRows = plainSum(classes.map(trainCount));
  const cur = classes.map((c) => (counts.get(c) ?? 0) / n);
  const ref = classes.map((c) => trainCount(c) / referenceRows);
  const comparable = n > 0 && referenceRows > 0;
  return {
    n,
    referenceRows,
    classes,
    current: Object.fromEntries(classes.map((c, i) => [c, cur[i]])),
    reference: Object.fromEntries(classes.map((c, i) => [c, ref[i]])),
    linf: comparable ? Math.max(...cur.map((v, i) => Math.abs(v - ref[i]))) : NaN,
    jensenShannon: comparable ? jensenShannonSmoothed(cur, ref) : NaN,
  };
}

export interface ConfidenceReport {
  n: number;
  threshold: number;
  /** Mean over rows of the largest class probability; NaN when n = 0. */
  meanMaxProbability: number;
  /** Share of rows whose largest probability is strictly below `threshold`; NaN when n = 0. */
  lowConfidenceShare: number;
}

/**
 * How sure the model was: a falling mean top probability or a rising low-confidence share is an
 * early drift signal that needs no labels. Probabilities are used as given (not renormalised);
 * non-finite entries are ignored and a row without any counts as top probability 0.
 */
export function confidenceReport(probabilities: ReadonlyArray<Readonly<Record<string, number>>>, threshold: number): ConfidenceReport {
  if (!Number.isFinite(threshold)) throw new RangeError(`confidenceReport: threshold must be a finite number, got ${threshold}`);
  const n = probabilities.length;
  let total = 0;
  let low = 0;
  for (const row of probabilities) {
    let top = 0;
    for (const v of Object.values(row)) if (Number.isFinite(v) && v > top) top = v;
    total += top;
    if (top < threshold) low++;
  }
  return { n, threshold, meanMaxProbability: n === 0 ? NaN : total / n, lowConfidenceShare: n === 0 ? NaN : low / n };
}
