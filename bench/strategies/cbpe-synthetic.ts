/**
 * CBPE (core/estimation/cbpe.ts) on a synthetic three-class stream with known truth, until the
 * weather and flights streams are wired in: the true class probabilities are softmax(W x) of two
 * standard-normal features, the model is overconfident (softmax(2 W x), predicting its argmax),
 * the reference set (labelled) sits on class 0's side, and later windows shift the features' mean
 * step by step towards the origin (covariate shift, the concept W unchanged: the situation CBPE is made for). Per window:
 * realised accuracy (labels drawn from the true probabilities) against
 * - CBPE: calibrated on the reference set;
 * - the raw confidence: mean of the model's own probability of its predicted class (no calibration);
 * - the reference accuracy: what one would assume with no estimate at all.
 */
import { calibrateCbpe, estimatedAccuracy } from '../../core/estimation/cbpe.ts';
import { derive, type Rng } from '../../core/stats/rng.ts';

const W = [
  [1.5, 0],
  [-0.75, 1.3],
  [-0.75, -1.3],
];
const OVERCONFIDENCE = 2;
const REFERENCE_ROWS = 2000;
const WINDOWS = 20;
const WINDOW_ROWS = 500;
/** The features' mean along the first axis: the reference's (and the first window's), the last window's. */
const START = 1.5;
const END = 0;

function softmax(logits: number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const argmax = (p: number[]) => p.reduce((best, v, k) => (v > p[best] ? k : best), 0);

function draw(rng: Rng, p: number[]): number {
  let u = rng.uniform();
  for (let k = 0; k < p.length - 1; k++) {
    if (u < p[k]) return k;
    u -= p[k];
  }
  return p.length - 1;
}

/** Rows with features around `shift`: the model's probabilities, its prediction, the drawn true label. */
function rows(rng: Rng, n: number, shift: [number, number]) {
  const probabilities: number[][] = [];
  const predicted: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = [shift[0] + rng.normal(), shift[1] + rng.normal()];
    const logits = W.map((w) => w[0] * x[0] + w[1] * x[1]);
    const model = softmax(logits.map((l) => l * OVERCONFIDENCE));
    probabilities.push(model);
    predicted.push(argmax(model));
    labels.push(draw(rng, softmax(logits)));
  }
  return { probabilities, predicted, labels };
}

const accuracyOf = (predicted: number[], labels: number[]) => predicted.filter((p, i) => p === labels[i]).length / labels.length;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function cbpeSynthetic(seed: number) {
  const reference = rows(derive(seed, 0), REFERENCE_ROWS, [START, 0]);
  const calibration = calibrateCbpe(reference.probabilities, reference.labels);
  const referenceAccuracy = accuracyOf(reference.predicted, reference.labels);
  const windows = Array.from({ length: WINDOWS }, (_, w) => {
    // The features drift from class 0's side towards the origin, where all three classes meet and
    // the model is least accurate.
    const shift: [number, number] = [START + ((END - START) * w) / (WINDOWS - 1), 0];
    const window = rows(derive(seed, 1, w), WINDOW_ROWS, shift);
    return {
      realised: accuracyOf(window.predicted, window.labels),
      cbpe: estimatedAccuracy(calibration, window.probabilities, window.predicted),
      rawConfidence: mean(window.probabilities.map((p, i) => p[window.predicted[i]])),
    };
  });
  const mae = (pick: (w: (typeof windows)[number]) => number) => mean(windows.map((w) => Math.abs(pick(w) - w.realised)));
  return {
    windows: WINDOWS,
    rowsPerWindow: WINDOW_ROWS,
    referenceRows: REFERENCE_ROWS,
    realisedAccuracy: { first: windows[0].realised, last: windows[WINDOWS - 1].realised },
    meanAbsError: mae((w) => w.cbpe),
    rawConfidenceMeanAbsError: mae((w) => w.rawConfidence),
    referenceAccuracyMeanAbsError: mae(() => referenceAccuracy),
    perWindow: windows,
  };
}
