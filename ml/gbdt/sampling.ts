/**
 * The booster's random draws: rows for bagging and columns for feature_fraction. Each draw has a
 * stream of its own keyed by the booster's seed and the round (core/stats/rng.ts `derive`), so
 * the generator's state after any number of rounds is just (seed, rounds): a booster resumed
 * from saved state draws exactly what an uninterrupted one would.
 */
import { derive } from '../../core/stats/rng.ts';
import type { GbdtParams } from './params.ts';

const STREAM_BAG = 1;
const STREAM_COLUMNS = 2;

export const bags = (p: GbdtParams): boolean => p.baggingFreq > 0 && p.baggingFraction < 1;

/** In-bag rows (ascending) of the bag rounds [period * baggingFreq, ...) use: each row in with probability baggingFraction. */
export function drawBag(seed: number, period: number, nRows: number, fraction: number, into: Int32Array): number {
  const rng = derive(seed, STREAM_BAG, period);
  let n = 0;
  for (let i = 0; i < nRows; i++) if (rng.uniform() < fraction) into[n++] = i;
  return n;
}

/** Columns tree (round, output) may split: round(fraction * candidates) of them (at least 1), 1 marks usable. */
export function drawColumns(seed: number, round: number, output: number, candidates: Uint8Array, fraction: number): Uint8Array {
  if (fraction >= 1) return candidates;
  const pool: number[] = [];
  candidates.forEach((ok, f) => ok && pool.push(f));
  const take = Math.max(1, Math.trunc(pool.length * fraction + 0.5));
  const rng = derive(seed, STREAM_COLUMNS, round, output);
  const out = new Uint8Array(candidates.length);
  // Partial Fisher-Yates: the first `take` of a shuffled pool.
  for (let i = 0; i < Math.min(take, pool.length); i++) {
    const j = rng.int(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
    out[pool[i]] = 1;
  }
  return out;
}
