/**
 * Seeded synthetic classification streams with known change points, for evaluating drift
 * detectors, and a scorer for a detector's alarms against those change points.
 *
 * PURE module: no Node or npm imports; deterministic (all randomness comes from the project's
 * seeded sfc32 generator, keyed per purpose so that e.g. changing the noise level does not move
 * the features).
 *
 * - seaStream: SEA concepts (Street & Kim 2001), abrupt drift.
 * - hyperplaneStream: rotating hyperplane (Hulten et al. 2001, MOA's HyperplaneGenerator),
 *   gradual drift during windows that start at the change points.
 * - detectionReport: detection delays, false alarms and missed changes.
 */

import { derive, type Rng } from '../stats/rng.ts';

export interface LabelledStream {
  /** Feature vectors, one per instance. */
  rows: number[][];
  /** Class labels (0 or 1), one per instance. */
  labels: number[];
  /** Sorted indices of the first instance of each new concept (see each generator). */
  changePoints: number[];
}

/** Keys of the independent random streams (derive(seed, key)). */
const KEY = {
  seaFeatures: 0x5ea1,
  seaNoise: 0x5ea2,
  hyperplaneWeights: 0x4e91,
  hyperplaneFeatures: 0x4e92,
  hyperplaneNoise: 0x4e93,
  hyperplaneDirection: 0x4e94,
} as const;

// ---------------------------------------------------------------------------------------------
// SEA concepts

/** Street & Kim's four thresholds, used in this order (and cyclically for longer streams). */
export const SEA_THRESHOLDS: readonly number[] = Object.freeze([8, 9, 7, 9.5]);

export interface SeaOptions {
  seed: number;
  /** Number of instances. */
  length: number;
  /** Instances per concept: concept k covers [k * changeEvery, (k + 1) * changeEvery). */
  changeEvery: number;
  /** Probability that a label is flipped (class noise), default 0. Street & Kim used 0.1. */
  noise?: number;
  /** Thresholds cycled through, default SEA_THRESHOLDS (8, 9, 7, 9.5). */
  thresholds?: readonly number[];
}

export interface SeaStream extends LabelledStream {
  /** The threshold theta in force at each instance. */
  thetas: number[];
}

/**
 * SEA concepts: three features uniform in [0, 10) (the third is irrelevant) and
 * label = 1 if x1 + x2 <= theta else 0, as in Street & Kim (2001). (MOA's and river's SEA
 * generators label the complement, x1 + x2 > theta, as 1; the drift is the same.)
 * theta cycles through `thresholds`, changing every `changeEvery` instances, so the change points
 * are changeEvery, 2 changeEvery, ... (< length): abrupt drift. With `noise` each label is flipped
 * with that probability (the flips do not affect the features or the thetas).
 */
export function seaStream(options: SeaOptions): SeaStream {
  const { seed, length, changeEvery, noise = 0, thresholds = SEA_THRESHOLDS } = options;
  requireLength('seaStream', length);
  requirePositiveInteger('seaStream', 'changeEvery', changeEvery);
  requireProbability('seaStream', 'noise', noise);
  if (thresholds.length === 0 || !thresholds.every(Number.isFinite)) throw new RangeError('seaStream: thresholds must be finite numbers');

  const features = derive(seed, KEY.seaFeatures);
  const flips = derive(seed, KEY.seaNoise);
  const rows: number[][] = [];
  const labels: number[] = [];
  const thetas: number[] = [];
  for (let i = 0; i < length; i++) {
    const theta = thresholds[Math.floor(i / changeEvery) % thresholds.length];
    const row = [10 * features.uniform(), 10 * features.uniform(), 10 * features.uniform()];
    const clean = row[0] + row[1] <= theta ? 1 : 0;
    rows.push(row);
    labels.push(flipWithProbability(clean, flips, noise));
    thetas.push(theta);
  }
  return { rows, labels, changePoints: multiplesBelow(changeEvery, length), thetas };
}

// ---------------------------------------------------------------------------------------------
// Rotating hyperplane

export interface HyperplaneOptions {
  seed: number;
  /** Number of instances. */
  length: number;
  /** A drift window starts at changeEvery, 2 changeEvery, ... (< length). */
  changeEvery: number;
  /** Instances per drift window, default max(1, floor(changeEvery / 2)); from 1 to changeEvery. */
  driftLength?: number;
  /** Number of features d, default 10. */
  features?: number;
  /** How many of the weights drift (the first ones), default 2. */
  driftFeatures?: number;
  /** Change of a drifting weight per instance inside a drift window, default 0.001 (MOA's magChange). */
  magnitude?: number;
  /** Probability per instance that a drifting weight reverses direction, default 0.1 (MOA's sigmaPercentage 10). */
  reverseProbability?: number;
  /** Probability that a label is flipped, default 0.05 (MOA's noisePercentage 5). */
  noise?: number;
}

export interface HyperplaneStream extends LabelledStream {
  /** End (exclusive) of the drift window that starts at each change point. */
  driftEnds: number[];
  /** weights[0]: the initial weights; weights[k + 1]: the weights after drift window k (then fixed until the next). */
  weights: number[][];
}

/**
 * Rotating hyperplane, as MOA's HyperplaneGenerator: features uniform in [0, 1)^d, initial weights
 * uniform in [0, 1), label = 1 if sum_i w_i x_i >= w0 with w0 = sum_i w_i / 2 (the hyperplane
 * through the cube's centre, so both classes stay about equally frequent), then flipped with
 * probability `noise`.
 *
 * Unlike MOA (which drifts on every instance) the weights only move inside drift windows
 * [c, c + driftLength) starting at each change point c = changeEvery, 2 changeEvery, ...: before
 * instance i of a window is generated, each of the first `driftFeatures` weights moves by
 * `magnitude` in its current direction (initially +1) and then reverses direction with
 * probability `reverseProbability`. So instance c is the first one of a new concept (the change
 * points mark where each gradual drift starts) and the concept is stable between windows.
 * driftLength = changeEvery gives MOA's continuous drift from the first change point on.
 */
export function hyperplaneStream(options: HyperplaneOptions): HyperplaneStream {
  const {
    seed,
    length,
    changeEvery,
    driftLength = Math.max(1, Math.floor(changeEvery / 2)),
    features: d = 10,
    driftFeatures = 2,
    magnitude = 0.001,
    reverseProbability = 0.1,
    noise = 0.05,
  } = options;
  requireLength('hyperplaneStream', length);
  requirePositiveInteger('hyperplaneStream', 'changeEvery', changeEvery);
  requirePositiveInteger('hyperplaneStream', 'features', d);
  if (!Number.isInteger(driftLength) || driftLength < 1 || driftLength > changeEvery) {
    throw new RangeError(`hyperplaneStream: driftLength must be an integer in [1, changeEvery], got ${driftLength}`);
  }
  if (!Number.isInteger(driftFeatures) || driftFeatures < 0 || driftFeatures > d) {
    throw new RangeError(`hyperplaneStream: driftFeatures must be an integer in [0, features], got ${driftFeatures}`);
  }
  if (!Number.isFinite(magnitude)) throw new RangeError(`hyperplaneStream: magnitude must be finite, got ${magnitude}`);
  requireProbability('hyperplaneStream', 'reverseProbability', reverseProbability);
  requireProbability('hyperplaneStream', 'noise', noise);

  const weightRng = derive(seed, KEY.hyperplaneWeights);
  const featureRng = derive(seed, KEY.hyperplaneFeatures);
  const flips = derive(seed, KEY.hyperplaneNoise);
  const directionRng = derive(seed, KEY.hyperplaneDirection);

  const w = Array.from({ length: d }, () => weightRng.uniform());
  const direction = Array.from({ length: driftFeatures }, () => 1);
  const changePoints = multiplesBelow(changeEvery, length);
  const driftEnds = changePoints.map((c) => Math.min(c + driftLength, length));
  const weights = [[...w]];

  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < length; i++) {
    const k = Math.floor(i / changeEvery) - 1; // most recent change point, -1 before the first
    const inWindow = k >= 0 && i < driftEnds[k];
    if (inWindow) driftWeights(w, direction, magnitude, reverseProbability, directionRng);
    if (inWindow && i === driftEnds[k] - 1) weights.push([...w]);
    const row = Array.from({ length: d }, () => featureRng.uniform());
    rows.push(row);
    labels.push(flipWithProbability(hyperplaneLabel(w, row), flips, noise));
  }
  return { rows, labels, changePoints, driftEnds, weights };
}

/** 1 if sum w_i x_i >= sum w_i / 2 (MOA: sum >= sumWeights * 0.5), else 0. */
function hyperplaneLabel(w: readonly number[], x: readonly number[]): number {
  let sum = 0;
  let sumWeights = 0;
  for (let j = 0; j < w.length; j++) {
    sum += w[j] * x[j];
    sumWeights += w[j];
  }
  return sum >= sumWeights * 0.5 ? 1 : 0;
}

/** MOA's addDrift: move each drifting weight, then maybe reverse its direction (one draw per weight). */
function driftWeights(w: number[], direction: number[], magnitude: number, reverseProbability: number, rng: Rng): void {
  for (let j = 0; j < direction.length; j++) {
    w[j] += direction[j] * magnitude;
    if (rng.uniform() < reverseProbability) direction[j] = -direction[j];
  }
}

// ---------------------------------------------------------------------------------------------
// Scoring a detector

export interface DetectionReport {
  /** Per change point: alarm index minus change point of its detection, or null when missed. */
  delays: (number | null)[];
  /** Alarms that detect no change point. */
  falseAlarms: number;
  /** Change points without a detection. */
  missed: number;
}

/**
 * Score alarm indices against known change points of a stream of `length` instances.
 *
 * Change point c_k is detected by the first alarm a with c_k <= a < end_k, where
 * end_k = min(c_{k+1}, c_k + tolerance, length) (so by default an alarm detects the most recent
 * change point until the next one happens); its delay is a - c_k (0 = alarm on the first instance of
 * the new concept). Every other alarm is a false alarm: alarms before the first change point,
 * beyond the tolerance, and repeated alarms for an already detected change point.
 * Alarms and change points may come in any order; duplicates of a change point are ignored.
 * Throws a RangeError for indices outside [0, length) or a tolerance below 1.
 */
export function detectionReport(
  alarms: readonly number[],
  changePoints: readonly number[],
  length: number,
  tolerance = Infinity,
): DetectionReport {
  requireLength('detectionReport', length);
  if (!(tolerance >= 1)) throw new RangeError(`detectionReport: tolerance must be >= 1, got ${tolerance}`);
  for (const [name, list] of [
    ['alarms', alarms],
    ['changePoints', changePoints],
  ] as const) {
    for (const v of list) {
      if (!Number.isInteger(v) || v < 0 || v >= length)
        throw new RangeError(`detectionReport: ${name} must be integers in [0, ${length}), got ${v}`);
    }
  }
  const changes = [...new Set(changePoints)].sort((a, b) => a - b);
  const sortedAlarms = [...alarms].sort((a, b) => a - b);

  const delays: (number | null)[] = changes.map(() => null);
  let falseAlarms = 0;
  let k = -1; // index of the most recent change point at or before the current alarm
  for (const a of sortedAlarms) {
    while (k + 1 < changes.length && changes[k + 1] <= a) k++;
    const detects = k >= 0 && delays[k] === null && a < windowEnd(changes, k, length, tolerance);
    if (detects) delays[k] = a - changes[k];
    else falseAlarms++;
  }
  return { delays, falseAlarms, missed: delays.filter((d) => d === null).length };
}

function windowEnd(changes: readonly number[], k: number, length: number, tolerance: number): number {
  const next = k + 1 < changes.length ? changes[k + 1] : length;
  return Math.min(next, changes[k] + tolerance, length);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Always one draw, so the noise stream stays aligned with the instances whatever `p` is. */
function flipWithProbability(label: number, rng: Rng, p: number): number {
  return rng.uniform() < p ? 1 - label : label;
}

/** step, 2 step, ... below `end`. */
function multiplesBelow(step: number, end: number): number[] {
  const out: number[] = [];
  for (let c = step; c < end; c += step) out.push(c);
  return out;
}

function requireLength(who: string, length: number): void {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`${who}: length must be a non-negative integer, got ${length}`);
}

function requirePositiveInteger(who: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${who}: ${name} must be a positive integer, got ${v}`);
}

function requireProbability(who: string, name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${who}: ${name} must be in [0, 1], got ${p}`);
}
