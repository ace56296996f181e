/**
 * Shapley values of a model's output at one row, for any model that predicts batches of rows.
 *
 * - exactShapley: by brute force over every coalition of players (2^n value calls): the
 *   reference for tests, and exact for models with a handful of features.
 * - sampledShapley: permutation sampling (Štrumbelj & Kononenko 2014, "Explaining prediction
 *   models and individual predictions with feature contributions"), interventional: a player
 *   outside the coalition takes a background row's value. Each sample is a random permutation
 *   walked forwards and backwards (antithetic, which cancels much of the order's noise) against
 *   one random background row; every player's marginal contribution is measured on both walks.
 *   All rows of a batch of samples go to the model in one predict call.
 */
import { derive, type Rng } from '../../core/stats/rng.ts';

/** Players above this make 2^n coalitions too many to enumerate. */
export const MAX_EXACT_PLAYERS = 20;

/**
 * phi_i = sum over coalitions S without i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S)).
 * `value` gets a coalition as a bit mask (bit i set: player i is in it).
 */
export function exactShapley(players: number, value: (coalition: number) => number): Float64Array {
  if (!Number.isInteger(players) || players < 1 || players > MAX_EXACT_PLAYERS)
    throw new RangeError(`exactShapley: players must be 1..${MAX_EXACT_PLAYERS} (got ${players})`);
  const coalitions = 2 ** players;
  const v = new Float64Array(coalitions);
  for (let mask = 0; mask < coalitions; mask++) v[mask] = value(mask);
  // weights[s] = s! (n - s - 1)! / n!
  const weights = new Float64Array(players);
  for (let s = 0; s < players; s++) weights[s] = 1 / (players * binomial(players - 1, s));
  const phi = new Float64Array(players);
  for (let mask = 0; mask < coalitions; mask++) {
    const size = popcount(mask);
    for (let i = 0; i < players; i++) {
      if (mask & (1 << i)) continue;
      phi[i] += weights[size] * (v[mask | (1 << i)] - v[mask]);
    }
  }
  return phi;
}

/**
 * The interventional value function over a background: v(S) = mean over background rows b of
 * f(x on S, b elsewhere), for exactShapley. `predict` returns one output per row (select it).
 */
export function interventionalValue<R>(
  x: R,
  background: readonly R[],
  compose: Compose<R>,
  players: number,
  predict: (rows: R[]) => ArrayLike<number>,
): (coalition: number) => number {
  const inCoalition = new Uint8Array(players);
  return (coalition) => {
    for (let i = 0; i < players; i++) inCoalition[i] = (coalition >> i) & 1;
    const out = predict(background.map((b) => compose(x, b, inCoalition)));
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += out[i];
    return sum / out.length;
  };
}

/** A row with the players flagged in `inCoalition` taken from x, every other from the background row b. */
export type Compose<R> = (x: R, b: R, inCoalition: Uint8Array) => R;

export interface SampledShapleyInput<R> {
  /** The row explained. */
  x: R;
  /** Rows whose values stand in for players outside the coalition; each sample draws one. */
  background: readonly R[];
  players: number;
  compose: Compose<R>;
  /** Row-major [rows x outputs] model outputs. */
  predict: (rows: R[]) => ArrayLike<number>;
  outputs: number;
  /** Antithetic permutation pairs; each costs 2 (players - 1) model rows. */
  samples: number;
  seed: number;
  /** Rows per predict call, at least one sample's worth. */
  batchRows?: number;
}

export interface SampledShapley {
  /** phi[k][i]: player i's attribution to output k. */
  phi: Float64Array[];
  /** Standard error of each phi[k][i] (before the efficiency adjustment; see sampledShapley). */
  standardErrors: Float64Array[];
  /** Per output: the mean over the background, E[f]. */
  expected: Float64Array;
  /** Per output: f(x). expected + sum(phi) equals it. */
  prediction: Float64Array;
  samples: number;
}

export const METHOD_SAMPLED = 'sampled-shapley';
const DEFAULT_BATCH_ROWS = 8192;

/**
 * Sampled interventional Shapley values with a standard error each. One sample's contributions
 * add up to f(x) - f(b) for its background row b, so their mean adds up to f(x) minus the mean
 * over the background rows drawn, not over the whole background (E[f]). That difference is
 * sampling error; it is spread over the players in proportion to their estimated variance (the
 * noisier an estimate, the more of it it takes), so that expected + sum(phi) = f(x) exactly,
 * as KernelSHAP's efficiency constraint does.
 */
export function sampledShapley<R>(input: SampledShapleyInput<R>): SampledShapley {
  const { x, background, players, compose, predict, outputs, samples } = input;
  if (!Number.isInteger(players) || players < 1)
    throw new RangeError(`sampledShapley: players must be a positive integer (got ${players})`);
  if (!Number.isInteger(samples) || samples < 2) throw new RangeError(`sampledShapley: samples must be an integer >= 2 (got ${samples})`);
  if (background.length === 0) throw new RangeError('sampledShapley: the background is empty');
  const rng = derive(input.seed);
  const fx = predict([x]);
  const fb = predict([...background]);
  const prediction = Float64Array.from({ length: outputs }, (_, k) => fx[k]);
  const expected = new Float64Array(outputs);
  for (let j = 0; j < background.length; j++) for (let k = 0; k < outputs; k++) expected[k] += fb[j * outputs + k] / background.length;

  // Per output and player: running sum and sum of squares of each sample's contribution.
  const sum = Array.from({ length: outputs }, () => new Float64Array(players));
  const sumSq = Array.from({ length: outputs }, () => new Float64Array(players));
  const rowsPerSample = 2 * (players - 1);
  const perBatch = Math.max(1, Math.floor((input.batchRows ?? DEFAULT_BATCH_ROWS) / Math.max(1, rowsPerSample)));
  const inCoalition = new Uint8Array(players);
  const contribution = new Float64Array(outputs * players);
  for (let done = 0; done < samples; done += perBatch) {
    const batch = Array.from({ length: Math.min(perBatch, samples - done) }, () => ({
      order: permutation(rng, players),
      b: rng.int(0, background.length - 1),
    }));
    // Forwards, then backwards: the rows strictly between all-background and all-x.
    const rows: R[] = [];
    for (const { order, b } of batch) {
      for (const direction of [1, -1]) {
        inCoalition.fill(0);
        for (let step = 0; step < players - 1; step++) {
          inCoalition[direction === 1 ? order[step] : order[players - 1 - step]] = 1;
          rows.push(compose(x, background[b], inCoalition));
        }
      }
    }
    const f = rows.length ? predict(rows) : new Float64Array(0);
    let at = 0;
    for (const { order, b } of batch) {
      contribution.fill(0);
      for (const direction of [1, -1]) {
        // f before and after each player joins: from f(b) through the walk's rows to f(x).
        let before = (k: number) => fb[b * outputs + k];
        for (let step = 0; step < players; step++) {
          const player = direction === 1 ? order[step] : order[players - 1 - step];
          const row = at;
          const after = step === players - 1 ? (k: number) => fx[k] : (k: number) => f[row * outputs + k];
          for (let k = 0; k < outputs; k++) contribution[k * players + player] += (after(k) - before(k)) / 2;
          before = after;
          if (step < players - 1) at++;
        }
      }
      for (let k = 0; k < outputs; k++) {
        for (let i = 0; i < players; i++) {
          const c = contribution[k * players + i];
          sum[k][i] += c;
          sumSq[k][i] += c * c;
        }
      }
    }
  }

  const phi = sum.map((s) => s.map((v) => v / samples));
  const standardErrors = sum.map((s, k) =>
    s.map((v, i) => {
      const mean = v / samples;
      const variance = Math.max(0, (sumSq[k][i] - samples * mean * mean) / (samples - 1));
      return Math.sqrt(variance / samples);
    }),
  );
  for (let k = 0; k < outputs; k++) {
    const gap = prediction[k] - expected[k] - phi[k].reduce((a, v) => a + v, 0);
    const variances = standardErrors[k].map((se) => se * se);
    const total = variances.reduce((a, v) => a + v, 0);
    for (let i = 0; i < players; i++) phi[k][i] += total > 0 ? (gap * variances[i]) / total : gap / players;
  }
  return { phi, standardErrors, expected, prediction, samples };
}

/** A uniformly random order of 0..n-1 (Fisher-Yates). */
function permutation(rng: Rng, n: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

function popcount(mask: number): number {
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  return n;
}

function binomial(n: number, k: number): number {
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}
