/**
 * Sorting numeric samples, and the checks that a sample is sorted.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 *
 * Two ways to drop values before a sort, each as the library its callers match does:
 * - `sortedWithoutNaN` keeps +/-Infinity (scipy's ks_2samp treats them as ordinary values);
 * - `finiteSorted` / `sortFinite` drop every non-finite value (the drift tests and the profile
 *   sample work on finite values only).
 *
 * `sortFinite` sorts long columns with a radix sort: what makes a drift cycle over a million-row
 * window affordable.
 */

/** An ascending copy of the values that are not NaN (+/-Infinity kept). */
export function sortedWithoutNaN(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) count++;
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) out[k++] = v;
  }
  return out.sort(); // typed-array sort is numeric
}

/** An ascending copy of the finite values (any array-like; see sortFinite for long Float64Arrays). */
export function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort(); // typed-array sort is numeric
}

export function countFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  return n;
}

/** The first index whose value is not finite or is below its predecessor; -1 when there is none. */
export function firstUnsortedIndex(values: ArrayLike<number>): number {
  let prev = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is NaN for NaN and +/-Infinity; v < prev catches a descent
    if (!(v - v === 0) || v < prev) return i;
    prev = v;
  }
  return -1;
}

/** True when every value is finite and no value is below its predecessor. */
export function isAscendingFinite(values: ArrayLike<number>): boolean {
  return firstUnsortedIndex(values) === -1;
}

/**
 * An ascending copy of the finite values of `values`: exactly the array
 * `Float64Array.prototype.sort` gives for them (-0 before +0). Short arrays (under
 * RADIX_MIN_LENGTH values) use that sort; long ones, on little-endian hosts (everywhere Node
 * runs), a least-significant-digit radix sort on the IEEE-754 bit patterns, 11 bits per pass,
 * which is roughly twice as fast on a million values (see radixSort). Deterministic; one scratch
 * buffer of the same size.
 */
export function sortFinite(values: Float64Array): Float64Array {
  return sortFiniteWith(values, { buffer: new Float64Array(0) });
}

/** Arrays shorter than this are sorted by Float64Array.prototype.sort. */
export const RADIX_MIN_LENGTH = 1 << 14;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const RADIX_BITS = 11;
const RADIX_SIZE = 1 << RADIX_BITS;
const RADIX_MASK = RADIX_SIZE - 1;
/** Values sampled to choose between the high-word and the full radix sort. */
const RADIX_PROBE = 1024;
/** Element moves the high-word sort's final insertion pass may make, per value, before giving up. */
const INSERTION_BUDGET = 8;

/** A scratch buffer reused (and grown as needed) across the sorts of one dataDrift call. */
export interface SortScratch {
  buffer: Float64Array;
}

export function sortFiniteWith(values: Float64Array, scratch: SortScratch): Float64Array {
  let finite = 0;
  for (let i = 0; i < values.length; i++) if (values[i] - values[i] === 0) finite++;
  let source = values;
  if (finite < values.length) {
    source = new Float64Array(finite);
    let k = 0;
    for (let i = 0; i < values.length; i++) if (values[i] - values[i] === 0) source[k++] = values[i];
  }
  if (finite < RADIX_MIN_LENGTH || !LITTLE_ENDIAN) return source === values ? values.slice().sort() : source.sort();
  if (scratch.buffer.length < finite) scratch.buffer = new Float64Array(finite);
  return radixSort(source, scratch.buffer.length === finite ? scratch.buffer : scratch.buffer.subarray(0, finite));
}

/**
 * Sorts finite values into a new array (`source` is left as it is; `scratch` has its length).
 *
 * The digits are those of the raw bit patterns, read through a Uint32Array view (lo, hi words,
 * little endian), while the values themselves move as doubles. As unsigned integers the bit
 * patterns order the positive values ascending, followed by the negative ones by ascending
 * magnitude; a last pass puts the negatives first, reversed. Digits shared by every value are
 * skipped (integer-valued data never needs the low word, for example).
 *
 * Most real-valued columns are ordered by their high words alone (sign, exponent and the top 20
 * mantissa bits), so when a probe of RADIX_PROBE evenly spaced values finds (almost) no two
 * different values with the same high word, only the three high-word digits are sorted and one
 * insertion pass orders the few values sharing a high word: half the passes. Data with many such
 * values (a large offset against a small spread, e.g. timestamps) gets all six digits. The
 * insertion pass is bounded (INSERTION_BUDGET moves per value); past that, the built-in sort
 * finishes the job, so a misjudged probe costs time, never correctness.
 */
function radixSort(source: Float64Array, scratch: Float64Array): Float64Array {
  const n = source.length;
  const words = new Uint32Array(source.buffer, source.byteOffset, 2 * n);
  const highOnly = fewHighWordCollisions(source);
  const digits = highOnly ? 3 : 6;
  const counts = new Uint32Array(digits * RADIX_SIZE);
  let negatives = 0;
  if (highOnly) {
    for (let i = 0; i < n; i++) {
      const hi = words[2 * i + 1];
      counts[hi & RADIX_MASK]++;
      counts[RADIX_SIZE + ((hi >>> 11) & RADIX_MASK)]++;
      counts[2 * RADIX_SIZE + (hi >>> 22)]++;
      negatives += hi >>> 31;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i];
      const hi = words[2 * i + 1];
      counts[lo & RADIX_MASK]++;
      counts[RADIX_SIZE + ((lo >>> 11) & RADIX_MASK)]++;
      counts[2 * RADIX_SIZE + (((lo >>> 22) | (hi << 10)) & RADIX_MASK)]++;
      counts[3 * RADIX_SIZE + ((hi >>> 1) & RADIX_MASK)]++;
      counts[4 * RADIX_SIZE + ((hi >>> 12) & RADIX_MASK)]++;
      counts[5 * RADIX_SIZE + (hi >>> 23)]++;
      negatives += hi >>> 31;
    }
  }
  // bucket starts; a digit with a single bucket holding everything is skipped
  const passes: number[] = [];
  for (let d = 0; d < digits; d++) {
    const offset = d * RADIX_SIZE;
    let trivial = false;
    let sum = 0;
    for (let b = 0; b < RADIX_SIZE; b++) {
      const c = counts[offset + b];
      if (c === n) trivial = true;
      counts[offset + b] = sum;
      sum += c;
    }
    if (!trivial) passes.push(d);
  }

  // ping-pong between `out` and the scratch so that the last write lands in `out`
  const out = new Float64Array(n);
  const writes = passes.length + (negatives > 0 ? 1 : 0);
  if (writes === 0) out.set(source);
  let from = source;
  let fromWords = words;
  let to = writes % 2 === 1 ? out : scratch;
  for (const d of passes) {
    const offset = d * RADIX_SIZE;
    if (highOnly) scatterHigh(fromWords, from, to, counts, offset, d * RADIX_BITS);
    else if (d < 2) scatterLow(fromWords, from, to, counts, offset, d * RADIX_BITS);
    else if (d === 2) scatterStraddling(fromWords, from, to, counts, offset);
    else scatterHigh(fromWords, from, to, counts, offset, d * RADIX_BITS - 32);
    from = to;
    fromWords = new Uint32Array(to.buffer, to.byteOffset, 2 * n);
    to = to === out ? scratch : out;
  }
  if (negatives > 0) {
    // negatives are last, by ascending magnitude: reversed to the front
    for (let i = 0; i < negatives; i++) to[i] = from[n - 1 - i];
    to.set(from.subarray(0, n - negatives), negatives);
  }
  if (highOnly && !insertionPass(out)) out.sort();
  return out;
}

/**
 * Orders values that are out of order only among neighbours (here: values sharing a high word).
 * Gives up (false) after INSERTION_BUDGET moves per value.
 */
function insertionPass(a: Float64Array): boolean {
  let budget = INSERTION_BUDGET * a.length;
  for (let i = 1; i < a.length; i++) {
    const v = a[i];
    if (!(v < a[i - 1])) continue;
    let j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
    budget -= i - j;
    if (budget < 0) return false;
  }
  return true;
}

/**
 * Whether the high words alone nearly order the data: in an evenly spaced probe, the pairs of
 * different values sharing a high word estimate the collision rate q; the insertion pass then
 * costs about n^2 q / 4 moves, acceptable up to n.
 */
function fewHighWordCollisions(values: Float64Array): boolean {
  const n = values.length;
  const size = Math.min(RADIX_PROBE, n);
  const probe = new Float64Array(size);
  for (let i = 0; i < size; i++) probe[i] = values[Math.floor((i * n) / size)];
  probe.sort();
  const probeWords = new Uint32Array(probe.buffer);
  let pairs = 0;
  let groupStart = 0; // first index of the current high-word group
  let valueStart = 0; // first index of the current run of equal values
  for (let i = 1; i <= size; i++) {
    const newValue = i === size || probe[i] !== probe[i - 1];
    const newGroup = i === size || probeWords[2 * i + 1] !== probeWords[2 * i - 1];
    if (newValue || newGroup) {
      // pairs of equal values are no work: subtract them from the group's pairs as the run closes
      const run = i - valueStart;
      pairs -= (run * (run - 1)) / 2;
      valueStart = i;
    }
    if (newGroup) {
      const group = i - groupStart;
      pairs += (group * (group - 1)) / 2;
      groupStart = i;
    }
  }
  return pairs * n <= 4 * ((size * (size - 1)) / 2);
}

// One scatter per kind of digit (a branch-free inner loop each): the digit from the words, the
// value moved as a double (finite, so its bits are preserved).
function scatterLow(words: Uint32Array, from: Float64Array, to: Float64Array, counts: Uint32Array, offset: number, shift: number): void {
  for (let i = 0; i < from.length; i++) to[counts[offset + ((words[2 * i] >>> shift) & RADIX_MASK)]++] = from[i];
}

function scatterStraddling(words: Uint32Array, from: Float64Array, to: Float64Array, counts: Uint32Array, offset: number): void {
  for (let i = 0; i < from.length; i++) to[counts[offset + (((words[2 * i] >>> 22) | (words[2 * i + 1] << 10)) & RADIX_MASK)]++] = from[i];
}

function scatterHigh(words: Uint32Array, from: Float64Array, to: Float64Array, counts: Uint32Array, offset: number, shift: number): void {
  for (let i = 0; i < from.length; i++) to[counts[offset + ((words[2 * i + 1] >>> shift) & RADIX_MASK)]++] = from[i];
}
