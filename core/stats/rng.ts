/**
 * Seeded pseudo-random numbers for workflow code, where Math.random is off limits: a replay
 * must draw exactly the same numbers. `derive` / `Rng` (sfc32) is the generator to use; mulberry32
 * (end of file) is kept only for the streams already recorded with it.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state,
 * passes PractRand); only 32-bit integer operations, so it is bit-identical on every platform.
 * Streams are keyed rather than shared: `derive(seed, STREAM.trial, i)` gives trial i its own
 * generator, so what trial i draws never depends on how many numbers earlier trials consumed.
 * (Math.log/cos/sqrt are V8's fdlibm ports: the same on every platform a worker runs on.)
 */

/** murmur3's 32-bit finalizer: every input bit flips each output bit with probability ~1/2. */
export function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An integer as two 32-bit words, so seeds beyond 2^32 (and negative ones) stay distinct. */
function words(n: number): [number, number] {
  if (!Number.isSafeInteger(n)) throw new RangeError(`rng: seeds and keys must be safe integers (got ${n})`);
  return [n >>> 0, Math.floor(n / 2 ** 32) >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private counter: number;

  /** Four already well-mixed 32-bit words; `derive` makes them from a seed. */
  constructor([a, b, c, d]: readonly [number, number, number, number]) {
    this.a = a;
    this.b = b;
    this.c = c;
    this.counter = d;
    // sfc32's author recommends discarding the first outputs so the state is fully mixed.
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** The next 32 random bits, as an unsigned integer. */
  private next32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1) with the full 53 bits of a double. */
  uniform(): number {
    const high = this.next32() >>> 5; // 27 bits
    const low = this.next32() >>> 6; // 26 bits
    return (high * 2 ** 26 + low) / 2 ** 53;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi)
      throw new RangeError(`rng.int: need integers lo <= hi (got ${lo}, ${hi})`);
    // With 53 random bits the modulo bias is below 2^-20 for any range under 2^33: negligible here.
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Standard normal (Box-Muller, always exactly two uniforms per call, no cached spare). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log(u) is finite
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One element, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('rng.choice: no items to choose from');
    return items[this.int(0, items.length - 1)];
  }
}

/** Independent stream for (seed, ...keys), e.g. derive(seed, STREAM.trial, trialIndex). */
export function derive(seed: number, ...keys: number[]): Rng {
  // Absorb every word into four lanes with distinct starting constants; each lane is a chained
  // avalanche hash, so even a trailing zero key (derive(s) vs derive(s, 0)) changes the stream.
  const input = [...words(seed), ...keys.flatMap(words)];
  const lanes: [number, number, number, number] = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
  for (const w of input) {
    for (let j = 0; j < 4; j++) lanes[j] = avalanche((lanes[j] ^ w) + Math.imul(j + 1, 0x9e3779b9));
  }
  return new Rng(lanes);
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit-state generator), uniform on [0, 1) with 32 bits. Not for new
 * code (use `derive`): it stays because the data split (activities/data.ts `shuffled`) and the
 * per-epoch training shuffles (ml/train.ts) draw from it, so trained models and their recorded
 * metrics depend on its exact stream.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
