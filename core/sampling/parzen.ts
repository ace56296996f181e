/**
 * Parzen estimators of TPE, as in Optuna's TPESampler with its defaults (prior_weight=1,
 * consider_magic_clip=True, consider_endpoints=False, multivariate=False):
 *
 * - numeric: a mixture of one truncated Gaussian per observation plus a prior kernel
 *   (mean = middle of the range, sigma = the range), in internal units (log space for log
 *   ranges; ints widened to [low - 0.5, high + 0.5] and scored by the mass of their unit bin).
 *   An observation's bandwidth is the larger distance to its neighbours among the sorted
 *   observations and the range ends, except that the outermost two look only inwards (a lone
 *   observation: the larger distance to an end); then clipped to [range / min(100, n + 2), range]
 *   (Optuna's 1 + number of kernels, the prior included). This is Optuna 5.0's rule; Optuna 3-4
 *   also counted the prior mean as a neighbour.
 * - categorical: each observation a kernel of its category smoothed by prior/(n + 1) on every
 *   category, plus a uniform prior kernel.
 * - kernel weights: Optuna's default_weights (1 each; beyond 25 observations the older ones ramp
 *   down linearly, so `values` must be in trial order), then prior weight 1, normalised.
 *
 * Earlier sweeps' trials (core/sweep-history.ts) add kernels of their own weight after this
 * sweep's observations; they count as neighbours for the bandwidths like any observation.
 * Without them everything above holds exactly.
 */
import { logGaussMass, truncNormLogPdf, truncNormSample } from '../stats/normal.ts';
import type { Rng } from '../stats/rng.ts';
import { fromInternal, internalRange, type NumericSpec, toInternal } from './space.ts';

const PRIOR_WEIGHT = 1;
const FULL_WEIGHT_RECENT = 25;

/** Optuna's default_weights(n): ones, or linspace(1/n, 1, n - 25) followed by 25 ones. */
export function observationWeights(n: number): number[] {
  const ramp = Math.max(0, n - FULL_WEIGHT_RECENT);
  const ramped = Array.from({ length: ramp }, (_, i) => (ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)));
  return [...ramped, ...new Array<number>(n - ramp).fill(1)];
}

/** A kernel from an earlier sweep: a value (a category index) and its weight. */
export interface Weighted<T> {
  value: T;
  weight: number;
}

/** Observation weights, then the earlier sweeps' kernels' weights, then the prior's, normalised to sum to 1. */
function kernelWeights(n: number, earlier: Weighted<unknown>[]): number[] {
  const raw = [...observationWeights(n), ...earlier.map((e) => e.weight), PRIOR_WEIGHT];
  const total = raw.reduce((s, w) => s + w, 0);
  return raw.map((w) => w / total);
}

/** Index of the kernel (or category) that uniform u falls on, given probabilities summing to 1. */
function pick(probabilities: number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < probabilities.length - 1; i++) {
    acc += probabilities[i];
    if (u < acc) return i;
  }
  return probabilities.length - 1; // also absorbs rounding when the sum is a hair below 1
}

function logSumExp(xs: number[]): number {
  const max = Math.max(...xs);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(xs.reduce((s, x) => s + Math.exp(x - max), 0));
}

/** Optuna's bandwidths for observation kernels at `mus` within [low, high] (internal units). */
function bandwidths(mus: number[], low: number, high: number): number[] {
  const n = mus.length;
  const order = mus.map((_, i) => i).sort((i, j) => mus[i] - mus[j] || i - j);
  const points = [low, ...order.map((i) => mus[i]), high];
  const sigmas = new Array<number>(n);
  order.forEach((i, rank) => {
    const k = rank + 1;
    sigmas[i] = Math.max(points[k] - points[k - 1], points[k + 1] - points[k]);
  });
  if (n >= 2) {
    // consider_endpoints=False: the range ends are not neighbours of the outermost kernels.
    sigmas[order[0]] = points[2] - points[1];
    sigmas[order[n - 1]] = points[n] - points[n - 1];
  }
  const range = high - low;
  const minSigma = range / Math.min(100, n + 2);
  return sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
}

export class NumericParzen {
  /** Kernel means, bandwidths and weights in internal units; the last kernel is the prior. */
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
  private readonly spec: NumericSpec;
  private readonly low: number;
  private readonly high: number;

  /** `values`: the observed parameter values, in trial order; `earlier`: earlier sweeps' values. */
  constructor(spec: NumericSpec, values: number[], earlier: Weighted<number>[] = []) {
    this.spec = spec;
    [this.low, this.high] = internalRange(spec);
    const mus = [...values, ...earlier.map((e) => e.value)].map((v) => toInternal(spec, v));
    const range = this.high - this.low;
    this.mus = [...mus, (this.low + this.high) / 2];
    this.sigmas = [...(mus.length ? bandwidths(mus, this.low, this.high) : []), range];
    this.weights = kernelWeights(values.length, earlier);
  }

  /** log density of a value (ints: log probability of the value). */
  logPdf(value: number): number {
    return logSumExp(this.mus.map((mu, k) => Math.log(this.weights[k]) + this.kernelLogPdf(value, mu, this.sigmas[k])));
  }

  private kernelLogPdf(value: number, mu: number, sigma: number): number {
    if (this.spec.type === 'float') return truncNormLogPdf(toInternal(this.spec, value), mu, sigma, this.low, this.high);
    const z = (x: number) => (x - mu) / sigma;
    const bin = logGaussMass(z(toInternal(this.spec, value - 0.5)), z(toInternal(this.spec, value + 0.5)));
    return bin - logGaussMass(z(this.low), z(this.high));
  }

  sample(rng: Rng): number {
    const k = pick(this.weights, rng.uniform());
    return fromInternal(this.spec, truncNormSample(rng.uniform(), this.mus[k], this.sigmas[k], this.low, this.high));
  }
}

export class CategoricalParzen {
  /** The mixture's probability of each category (the kernels collapse into one distribution). */
  readonly probabilities: number[];

  /** `observed`: indices of the observed categories among `size`, in trial order; `earlier`: earlier sweeps' indices. */
  constructor(size: number, observed: number[], earlier: Weighted<number>[] = []) {
    const kernels = [...observed, ...earlier.map((e) => e.value)];
    const n = kernels.length;
    const weights = kernelWeights(observed.length, earlier);
    const smoothing = PRIOR_WEIGHT / (n + 1);
    const rowTotal = size * smoothing + 1;
    const prior = weights[n] / size;
    this.probabilities = Array.from({ length: size }, (_, c) =>
      kernels.reduce((p, o, i) => p + (weights[i] * (smoothing + (o === c ? 1 : 0))) / rowTotal, prior),
    );
  }

  logPdf(index: number): number {
    return Math.log(this.probabilities[index]);
  }

  /** Drawing a category from the collapsed mixture is the same distribution as kernel-then-category. */
  sample(rng: Rng): number {
    return pick(this.probabilities, rng.uniform());
  }
}
