/**
 * Per-column bins, found once from the training data the way LightGBM 4 finds them with
 * min_data_in_bin = 1 (its BinMapper::FindBin): zero gets a bin of its own, (-1e-35, 1e-35];
 * negative and positive values share the other bins in proportion to their rows; a side with no
 * more distinct values than its bins gives each value a bin, the boundary between neighbours
 * just above their midpoint; otherwise boundaries fall greedily at about equal row counts.
 * A column with NaN in training gets a last bin for NaN; in a column without, NaN is read as 0
 * (LightGBM does the same at prediction).
 *
 * Unlike LightGBM, every row is used (LightGBM samples 200,000 rows for bins).
 */

/** LightGBM's kZeroThreshold: |x| <= this is zero for binning. */
export const ZERO_THRESHOLD = 1e-35;

export interface ColumnBins {
  /** Upper bounds of the value bins, ascending; the last is +Infinity. */
  upper: Float64Array;
  /** True when NaN was seen in training: bin `upper.length` is then the NaN bin. */
  nanBin: boolean;
}

export const binCount = (c: ColumnBins): number => c.upper.length + (c.nanBin ? 1 : 0);

const scratch = new Float64Array(1);
const scratchBits = new BigUint64Array(scratch.buffer);
/** The next double above a (C's nextafter(a, +inf)) for finite a. */
export function nextUp(a: number): number {
  if (a === 0) return Number.MIN_VALUE;
  scratch[0] = a;
  scratchBits[0] += a > 0 ? 1n : -1n;
  return scratch[0];
}

/** Bin boundaries for one side (negative or positive values) given its distinct values and counts. */
function greedyBounds(values: Float64Array, counts: Int32Array, from: number, to: number, maxBin: number, total: number): number[] {
  const n = to - from;
  const bounds: number[] = [];
  if (n <= maxBin) {
    for (let i = from; i < to - 1; i++) {
      const v = nextUp((values[i] + values[i + 1]) / 2);
      if (bounds.length === 0 || v > nextUp(bounds[bounds.length - 1])) bounds.push(v);
    }
    bounds.push(Infinity);
    return bounds;
  }
  maxBin = Math.max(1, Math.min(maxBin, total));
  let meanBinSize = total / maxBin;
  let restBins = maxBin;
  let restRows = total;
  const big = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (counts[from + i] >= meanBinSize) {
      big[i] = 1;
      restBins--;
      restRows -= counts[from + i];
    }
  }
  meanBinSize = restRows / restBins;
  const uppers: number[] = [];
  const lowers: number[] = [values[from]];
  let inBin = 0;
  for (let i = 0; i < n - 1; i++) {
    if (!big[i]) restRows -= counts[from + i];
    inBin += counts[from + i];
    if (big[i] || inBin >= meanBinSize || (big[i + 1] && inBin >= Math.max(1, meanBinSize * 0.5))) {
      uppers.push(values[from + i]);
      lowers.push(values[from + i + 1]);
      if (uppers.length >= maxBin - 1) break;
      inBin = 0;
      if (!big[i]) {
        restBins--;
        meanBinSize = restRows / restBins;
      }
    }
  }
  for (let i = 0; i < uppers.length; i++) {
    const v = nextUp((uppers[i] + lowers[i + 1]) / 2);
    if (bounds.length === 0 || v > nextUp(bounds[bounds.length - 1])) bounds.push(v);
  }
  bounds.push(Infinity);
  return bounds;
}

/** Bins of one column from its training values (any order, NaN allowed). */
export function findColumnBins(column: Float64Array, maxBins: number): ColumnBins {
  let nan = 0;
  let zeros = 0;
  const nonZero = new Float64Array(column.length);
  let m = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (Number.isNaN(v)) nan++;
    else if (Math.abs(v) <= ZERO_THRESHOLD) zeros++;
    else nonZero[m++] = v;
  }
  const sorted = nonZero.subarray(0, m).sort();
  const values = new Float64Array(m);
  const counts = new Int32Array(m);
  let d = 0;
  for (let i = 0; i < m; i++) {
    if (d > 0 && sorted[i] <= nextUp(values[d - 1])) {
      values[d - 1] = sorted[i];
      counts[d - 1]++;
    } else {
      values[d] = sorted[i];
      counts[d++] = 1;
    }
  }
  const nanBin = nan > 0;
  const maxBin = nanBin ? maxBins - 1 : maxBins;
  const total = column.length - nan;
  let firstPositive = 0;
  while (firstPositive < d && values[firstPositive] < 0) firstPositive++;
  const negativeRows = sumCounts(counts, 0, firstPositive);
  const positiveRows = sumCounts(counts, firstPositive, d);
  let bounds: number[] = [];
  if (firstPositive > 0 && maxBin > 1) {
    const negativeBins = Math.max(1, Math.trunc((negativeRows / (total - zeros)) * (maxBin - 1)));
    bounds = greedyBounds(values, counts, 0, firstPositive, negativeBins, negativeRows);
    bounds[bounds.length - 1] = -ZERO_THRESHOLD;
  }
  const positiveBins = maxBin - 1 - bounds.length;
  if (firstPositive < d && positiveBins > 0) {
    bounds.push(ZERO_THRESHOLD, ...greedyBounds(values, counts, firstPositive, d, positiveBins, positiveRows));
  } else {
    bounds.push(Infinity);
  }
  return { upper: Float64Array.from(bounds), nanBin };
}

/** The bin of a value: the first bin whose upper bound is >= it. */
export function binOf(c: ColumnBins, v: number): number {
  if (Number.isNaN(v)) {
    if (c.nanBin) return c.upper.length;
    v = 0;
  }
  let lo = 0;
  let hi = c.upper.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= c.upper[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sumCounts(counts: Int32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += counts[i];
  return s;
}

/** Bins of every column of a row-major matrix. */
export function findBins(x: Float32Array, nRows: number, nColumns: number, maxBins: number): ColumnBins[] {
  const column = new Float64Array(nRows);
  const out: ColumnBins[] = [];
  for (let c = 0; c < nColumns; c++) {
    for (let r = 0; r < nRows; r++) column[r] = x[r * nColumns + c];
    out.push(findColumnBins(column, maxBins));
  }
  return out;
}

/** Column-major bin indices (column c's rows at [c * nRows, (c + 1) * nRows)). */
export function binMatrix(bins: ColumnBins[], x: Float32Array, nRows: number): Uint8Array | Uint16Array {
  const nColumns = bins.length;
  const wide = bins.some((c) => binCount(c) > 256);
  const out = wide ? new Uint16Array(nRows * nColumns) : new Uint8Array(nRows * nColumns);
  for (let c = 0; c < nColumns; c++) {
    const col = bins[c];
    const base = c * nRows;
    for (let r = 0; r < nRows; r++) out[base + r] = binOf(col, x[r * nColumns + c]);
  }
  return out;
}
