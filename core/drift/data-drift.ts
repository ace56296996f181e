/**
 * The data-drift part of a monitoring cycle: every feature of the current window against the
 * reference profile saved with the model (ml/bundle.ts ReferenceProfile), one drift test per
 * feature (core/drift/feature-tests.ts, Evidently's automatic choice unless overridden), and a
 * compact histogram per feature for the drift report a person reads.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic (it may run in Temporal workflow code).
 *
 * Built for large windows (a million logged rows is routine):
 * - `featureColumns` reads the rows once, row by row, into one Float64Array per numeric feature
 *   (finite values only) and one count table per category feature; no object per value.
 * - `dataDrift` sorts each numeric column once (`sortFinite`, a radix sort into a copy; the
 *   caller's column is left as it is) and uses that sort for both the test (numericDriftSorted: no
 *   further copy or sort; KS by binary searches) and the histogram (bin boundaries by binary
 *   search). Category features work on counts only.
 */
import { labelValue, parseNumeric } from '../validation.ts';
import { DriftTestError, numericDriftSorted, featureDrift, type DriftTestChoice, type FeatureDriftResult, type FeatureKind } from './feature-drift.ts';

// ---------------------------------------------------------------------------------------------
// columns

/** A numeric feature of the current window: its finite values (row order) and the rest. */
export interface NumericColumn {
  kind: 'number';
  /** The finite values, in row order. */
  values: Float64Array;
  /** Rows without a finite value: missing (undefined, null, NaN, blank) or not a number. */
  missing: number;
}

/** A category feature of the current window: rows per value (ml/preprocess.ts categoryKey). */
export interface CategoryColumn {
  kind: 'category';
  counts: Record<string, number>;
  /** Rows where the value is missing (undefined, null, a blank string). */
  missing: number;
}

export type FeatureColumn = NumericColumn | CategoryColumn;
export type FeatureColumns = Record<string, FeatureColumn>;

/** The part of core/spec.ts's FeatureSpec the columns need; a feature without `type` is numeric. */
export interface FeatureColumnSpec {
  name: string;
  type?: 'number' | 'category';
}

/**
 * The features of `rows` as columns, in one pass over the rows.
 *
 * Numeric features read a cell as core/validation.ts parseNumeric does everywhere in Perennial
 * (a finite number, or a string holding a decimal literal such as "12.8"); everything else (missing,
 * blank, NaN, other strings, +/-Infinity, booleans, objects) counts as `missing`, as in the
 * reference profile (ml/bundle.ts buildProfile: missing = rows without a numeric value). Category
 * features key a cell as ml/preprocess.ts categoryKey (core/validation.ts labelValue: strings as they
 * are, finite numbers as their decimal string; missing = undefined, null or a blank string).
 * Throws a RangeError for duplicate feature names.
 */
export function featureColumns(rows: ReadonlyArray<Record<string, unknown>>, features: ReadonlyArray<FeatureColumnSpec>): FeatureColumns {
  const n = rows.length;
  const k = features.length;
  const names = features.map((f) => f.name);
  if (new Set(names).size !== k) throw new RangeError(`featureColumns: duplicate feature names in [${names.join(', ')}]`);
  const numeric = features.map((f) => f.type !== 'category');
  // per feature: numeric -> value buffer and fill level; category -> counts; both -> missing
  const buffers = numeric.map((isNumber) => (isNumber ? new Float64Array(n) : new Float64Array(0)));
  const filled = new Array<number>(k).fill(0);
  const counts = numeric.map((isNumber) => (isNumber ? null : new Map<string, number>()));
  const missing = new Array<number>(k).fill(0);

  for (let r = 0; r < n; r++) {
    const row = rows[r];
    for (let j = 0; j < k; j++) {
      const value = row[names[j]];
      if (numeric[j]) {
        // the common cases inline; strings (and odd values) through parseNumeric itself
        if (typeof value === 'number') {
          if (Number.isFinite(value)) buffers[j][filled[j]++] = value;
          else missing[j]++;
        } else if (value === undefined || value === null) {
          missing[j]++;
        } else {
          const parsed = parseNumeric(value);
          if (parsed.kind === 'number') buffers[j][filled[j]++] = parsed.value;
          else missing[j]++;
        }
      } else {
        const key = labelValue(value);
        if (key === null) missing[j]++;
        else {
          const table = counts[j]!;
          table.set(key, (table.get(key) ?? 0) + 1);
        }
      }
    }
  }

  const out: FeatureColumns = {};
  for (let j = 0; j < k; j++) {
    const column: FeatureColumn = numeric[j]
      ? { kind: 'number', values: filled[j] === n ? buffers[j] : buffers[j].slice(0, filled[j]), missing: missing[j] }
      : // fromEntries defines own properties, so even a '__proto__' category is an ordinary key
        { kind: 'category', counts: Object.fromEntries(counts[j]!), missing: missing[j] };
    Object.defineProperty(out, names[j], { value: column, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the drift summary

/** What dataDrift needs of an ml/bundle.ts FeatureProfile. */
export interface FeatureProfileLike {
  /** 'category' for category features; absent (numeric) otherwise. */
  kind?: 'category';
  /** Numeric features: the reference sample (ascending in a saved profile; sorted here anyway). */
  sample?: ArrayLike<number>;
  /** Category features: reference rows per value. */
  counts?: Record<string, number>;
}

export interface NumericHistogram {
  /** bins + 1 ascending edges, equal width over the union of both sides' ranges. */
  edges: number[];
  /** Shares of the reference sample / the current values per bin ([e_i, e_i+1), the last closed). */
  reference: number[];
  current: number[];
}

export interface CategoryHistogram {
  /** Up to HISTOGRAM_TOP_CATEGORIES categories by combined share, then OTHER_CATEGORY if any are left. */
  categories: string[];
  /** Shares of the reference / current counts per entry of `categories`. */
  reference: number[];
  current: number[];
}

/** featureDrift's result (`rows`: finite values / present category values) with the feature and its missing rows. */
interface FeatureDriftBase extends FeatureDriftResult {
  name: string;
  /** Current rows without a usable value (the column's `missing`). */
  missing: number;
}

export type FeatureDataDrift =
  | (FeatureDriftBase & { kind: 'number'; histogram: NumericHistogram })
  | (FeatureDriftBase & { kind: 'category'; histogram: CategoryHistogram });

export interface DataDriftInput {
  columns: FeatureColumns;
  profile: { features: Record<string, FeatureProfileLike> };
  /** Per-feature override of the automatic test choice and/or its threshold. */
  choices?: Record<string, DriftTestChoice>;
  /** Bins of the numeric histograms; default DEFAULT_HISTOGRAM_BINS (20). */
  histogramBins?: number;
}

export interface DataDriftReport {
  /** Rows in the current window (the largest column: values + missing). */
  rows: number;
  /** Tested features, columns order first, then profile order. */
  features: FeatureDataDrift[];
  /** Names of the drifted features. */
  drifted: string[];
  /** drifted / tested features (0 when nothing was tested). */
  driftedShare: number;
  /** Features that could not be tested, each with a readable reason. */
  skipped: Array<{ name: string; reason: string }>;
}

export const DEFAULT_HISTOGRAM_BINS = 20;
/** Category histograms show this many categories by combined share; the rest is OTHER_CATEGORY. */
export const HISTOGRAM_TOP_CATEGORIES = 20;
export const OTHER_CATEGORY = '(other)';

/**
 * Drift of every feature of the current window against the reference profile.
 *
 * Features come from the columns and from the profile; a feature is skipped (with a reason, not an
 * error) when it has no profile entry, no current column, kinds that disagree, no reference values,
 * no current values, or a choice that does not apply to it (a DriftTestError). Numeric features
 * use numericDriftSorted on the profile sample and the sorted current values; category features
 * featureDrift on the counts. Tests and thresholds: `choices[name]` over the automatic choice
 * (feature-tests.ts: KS / chi-square up to 1000 current rows, Wasserstein / Jensen-Shannon beyond).
 * Throws a RangeError when histogramBins is not a positive integer.
 */
export function dataDrift(input: DataDriftInput): DataDriftReport {
  const { columns, profile, choices = {}, histogramBins = DEFAULT_HISTOGRAM_BINS } = input;
  if (!Number.isInteger(histogramBins) || histogramBins < 1) throw new RangeError(`dataDrift: histogramBins must be a positive integer, got ${histogramBins}`);
  const own = (record: object, key: string) => Object.prototype.hasOwnProperty.call(record, key);
  const names = [...Object.keys(columns), ...Object.keys(profile.features).filter((name) => !own(columns, name))];
  let rows = 0;
  for (const column of Object.values(columns)) rows = Math.max(rows, columnRows(column));

  const features: FeatureDataDrift[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  const scratch: SortScratch = { buffer: new Float64Array(0) };
  for (const name of names) {
    const column = own(columns, name) ? columns[name] : undefined;
    const reference = own(profile.features, name) ? profile.features[name] : undefined;
    const choice = own(choices, name) ? choices[name] : {};
    const skip = (reason: string) => skipped.push({ name, reason });
    if (!column) {
      skip('not in the current data');
      continue;
    }
    if (!reference) {
      skip('no reference profile for this feature');
      continue;
    }
    const referenceKind: FeatureKind = reference.kind === 'category' ? 'category' : 'number';
    if (referenceKind !== column.kind) {
      skip(`the reference profile is ${referenceKind === 'number' ? 'numeric' : 'a category feature'}, the current data ${column.kind === 'number' ? 'numeric' : 'a category feature'}`);
      continue;
    }
    try {
      if (column.kind === 'number') {
        const ref = sortFiniteWith(Float64Array.from(reference.sample ?? []), scratch);
        if (ref.length === 0) {
          skip('the reference profile has no numeric values');
          continue;
        }
        if (column.values.length === 0) {
          skip(`no numeric values in the current data (${column.missing} missing)`);
          continue;
        }
        const cur = isAscendingFinite(column.values) ? column.values : sortFiniteWith(column.values, scratch);
        if (cur.length === 0) {
          skip(`no finite values in the current data (${column.missing} missing)`);
          continue;
        }
        const result = numericDriftSorted(ref, cur, choice);
        features.push({ name, kind: 'number', ...result, missing: column.missing, histogram: numericHistogramSorted(ref, cur, histogramBins) });
      } else {
        const refCounts = reference.counts ?? {};
        if (positiveTotal(refCounts) === 0) {
          skip('the reference profile has no category counts');
          continue;
        }
        if (positiveTotal(column.counts) === 0) {
          skip(`no category values in the current data (${column.missing} missing)`);
          continue;
        }
        const result = featureDrift({ kind: 'category', reference: refCounts, current: column.counts }, choice);
        features.push({ name, kind: 'category', ...result, missing: column.missing, histogram: categoryHistogram(refCounts, column.counts) });
      }
    } catch (err) {
      if (!(err instanceof DriftTestError)) throw err;
      skip(err.message);
    }
  }
  const drifted = features.filter((f) => f.drifted).map((f) => f.name);
  return { rows, features, drifted, driftedShare: features.length ? drifted.length / features.length : 0, skipped };
}

function columnRows(column: FeatureColumn): number {
  return column.kind === 'number' ? column.values.length + column.missing : positiveTotal(column.counts) + column.missing;
}

function positiveTotal(counts: Record<string, number>): number {
  let total = 0;
  for (const key in counts) {
    const c = counts[key];
    if (typeof c === 'number' && c > 0) total += c;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// histograms

/**
 * Histogram of two ascending, non-empty, finite samples over common equal-width bins: edges as
 * numpy's `np.histogram(x, bins, range=(lo, hi))` (np.linspace: e_i = i * (hi - lo) / bins + lo,
 * the last edge exactly hi), lo / hi the smallest / largest value of either sample (widened to
 * lo - 0.5 .. hi + 0.5 when they are equal, as numpy does); bin i holds e_i <= v < e_i+1, the last
 * bin also v = hi. Shares are count / sample size. Counting is a binary search per edge.
 */
export function numericHistogram(reference: Float64Array, current: Float64Array, bins = DEFAULT_HISTOGRAM_BINS): NumericHistogram {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`numericHistogram: bins must be a positive integer, got ${bins}`);
  if (reference.length === 0 || current.length === 0) throw new RangeError('numericHistogram: both samples need at least one value');
  if (!isAscendingFinite(reference) || !isAscendingFinite(current)) throw new RangeError('numericHistogram: both samples must be ascending and finite');
  return numericHistogramSorted(reference, current, bins);
}

function numericHistogramSorted(reference: Float64Array, current: Float64Array, bins: number): NumericHistogram {
  const dataMin = Math.min(reference[0], current[0]);
  const dataMax = Math.max(reference[reference.length - 1], current[current.length - 1]);
  const first = dataMin === dataMax ? dataMin - 0.5 : dataMin;
  const last = dataMin === dataMax ? dataMax + 0.5 : dataMax;
  const step = (last - first) / bins;
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return { edges, reference: binShares(reference, edges), current: binShares(current, edges) };
}

/** Shares of an ascending sample within [edges[0], edges[last]] per bin, by binary search. */
function binShares(sorted: Float64Array, edges: number[]): number[] {
  const bins = edges.length - 1;
  const shares = new Array<number>(bins);
  let start = lowerBound(sorted, edges[0], 0);
  for (let i = 0; i < bins; i++) {
    // the last bin is closed: everything up to and including the last edge
    const end = i === bins - 1 ? upperBound(sorted, edges[bins], start) : lowerBound(sorted, edges[i + 1], start);
    shares[i] = (end - start) / sorted.length;
    start = end;
  }
  return shares;
}

/** First index >= from with sorted[index] >= x (sorted.length when none). */
function lowerBound(sorted: Float64Array, x: number, from: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index >= from with sorted[index] > x (sorted.length when none). */
function upperBound(sorted: Float64Array, x: number, from: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Category shares of both sides for a report: the `top` categories by combined share (reference
 * share + current share; ties by name), then OTHER_CATEGORY holding the rest when any is left.
 * Shares are count / total of the positive counts of each side (0 for a side with no counts), so
 * each side sums to 1. A category literally named '(other)' is listed as itself.
 */
export function categoryHistogram(reference: Record<string, number>, current: Record<string, number>, top = HISTOGRAM_TOP_CATEGORIES): CategoryHistogram {
  if (!Number.isInteger(top) || top < 0) throw new RangeError(`categoryHistogram: top must be an integer >= 0, got ${top}`);
  const refTotal = positiveTotal(reference);
  const curTotal = positiveTotal(current);
  const count = (counts: Record<string, number>, key: string) => {
    const c = Object.prototype.hasOwnProperty.call(counts, key) ? counts[key] : 0;
    return typeof c === 'number' && c > 0 ? c : 0;
  };
  const keys = new Set<string>();
  for (const key of Object.keys(reference)) if (count(reference, key) > 0) keys.add(key);
  for (const key of Object.keys(current)) if (count(current, key) > 0) keys.add(key);
  const share = (c: number, total: number) => (total > 0 ? c / total : 0);
  const entries = [...keys].map((key) => {
    const r = count(reference, key);
    const c = count(current, key);
    return { key, r, c, combined: share(r, refTotal) + share(c, curTotal) };
  });
  entries.sort((p, q) => q.combined - p.combined || (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  const shown = entries.slice(0, top);
  const out: CategoryHistogram = {
    categories: shown.map((e) => e.key),
    reference: shown.map((e) => share(e.r, refTotal)),
    current: shown.map((e) => share(e.c, curTotal)),
  };
  if (entries.length > top) {
    let r = 0;
    let c = 0;
    for (let i = top; i < entries.length; i++) {
      r += entries[i].r;
      c += entries[i].c;
    }
    out.categories.push(OTHER_CATEGORY);
    out.reference.push(share(r, refTotal));
    out.current.push(share(c, curTotal));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sorting

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
interface SortScratch {
  buffer: Float64Array;
}

function sortFiniteWith(values: Float64Array, scratch: SortScratch): Float64Array {
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

/** True when every value is finite and no value is below its predecessor. */
function isAscendingFinite(values: Float64Array): boolean {
  let prev = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v - v === 0) || v < prev) return false;
    prev = v;
  }
  return true;
}
