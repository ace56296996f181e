/**
 * The data-drift part of a monitoring cycle: every feature of the current window against the
 * reference profile saved with the model (ml/bundle.ts ReferenceProfile), one drift test per
 * feature (core/drift/feature-drift.ts, Evidently's automatic choice unless overridden), and a
 * compact histogram per feature for the drift report a person reads.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic (it may run in Temporal workflow code).
 *
 * Built for large windows (a million logged rows is routine):
 * - `featureColumns` reads the rows once, row by row, into one Float64Array per numeric feature
 *   (finite values only) and one count table per category feature; no object per value.
 * - `dataDrift` sorts each numeric column once (core/stats/sort.ts, a radix sort into a copy;
 *   the caller's column is left as it is) and uses that sort for both the test (numericDriftSorted: no
 *   further copy or sort; KS by binary searches) and the histogram (bin boundaries by binary
 *   search). Category features work on counts only.
 */
import { labelValue, parseNumeric } from '../validation.ts';
import { equalWidthEdges, histogramShares } from '../stats/histogram.ts';
import { isAscendingFinite, sortFiniteWith, type SortScratch } from '../stats/sort.ts';
import type { ImageProfile } from '../profile.ts';
import { DriftTestError, type DriftTestChoice, type DriftTestName, type FeatureKind } from './catalogue.ts';
import { featureDrift, imageDrift, numericDriftSorted, type FeatureDriftResult } from './feature-drift.ts';
import type { ImageWindow } from './image.ts';

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
  | (FeatureDriftBase & { kind: 'category'; histogram: CategoryHistogram })
  | (FeatureDriftBase & { kind: 'image'; histogram: NumericHistogram });

/**
 * An image spec's pixels are tested together, as these entries of the report (every image test of
 * the catalogue, each under its own name), not one by one.
 */
export const IMAGE_DRIFT_VIEWS: ReadonlyArray<{ name: string; test: DriftTestName }> = [
  { name: 'image.intensity', test: 'intensity' },
  { name: 'image.blocks', test: 'blockmeans' },
];

/** The images of the current window against the training images (core/drift/image.ts). */
export interface ImageDriftInput {
  /** The pixel features: left out of the per-feature tests. */
  pixels: readonly string[];
  reference: ImageProfile;
  current: ImageWindow;
}

export interface DataDriftInput {
  columns: FeatureColumns;
  profile: { features: Record<string, FeatureProfileLike> };
  /** Per-feature override of the automatic test choice and/or its threshold. */
  choices?: Record<string, DriftTestChoice>;
  /** Bins of the numeric histograms; default DEFAULT_HISTOGRAM_BINS (20). */
  histogramBins?: number;
  /** An image spec with an image profile: its pixels as images (IMAGE_DRIFT_VIEWS). */
  image?: ImageDriftInput;
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
 * (feature-drift.ts: KS / chi-square up to 1000 current rows, Wasserstein / Jensen-Shannon beyond).
 * With `image`, its pixels are not features here; the image views are tested after the features.
 * Throws a RangeError when histogramBins is not a positive integer.
 */
export function dataDrift(input: DataDriftInput): DataDriftReport {
  const { columns, profile, choices = {}, histogramBins = DEFAULT_HISTOGRAM_BINS } = input;
  if (!Number.isInteger(histogramBins) || histogramBins < 1)
    throw new RangeError(`dataDrift: histogramBins must be a positive integer, got ${histogramBins}`);
  const own = (record: object, key: string) => Object.prototype.hasOwnProperty.call(record, key);
  const pixels = new Set(input.image?.pixels);
  const names = [...Object.keys(columns), ...Object.keys(profile.features).filter((name) => !own(columns, name))].filter(
    (name) => !pixels.has(name),
  );
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
      skip(
        `the reference profile is ${referenceKind === 'number' ? 'numeric' : 'a category feature'}, the current data ${column.kind === 'number' ? 'numeric' : 'a category feature'}`,
      );
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
        features.push({
          name,
          kind: 'number',
          ...result,
          missing: column.missing,
          histogram: numericHistogramSorted(ref, cur, histogramBins),
        });
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
        features.push({
          name,
          kind: 'category',
          ...result,
          missing: column.missing,
          histogram: categoryHistogram(refCounts, column.counts),
        });
      }
    } catch (err) {
      if (!(err instanceof DriftTestError)) throw err;
      skip(err.message);
    }
  }
  if (input.image) {
    const { reference, current } = input.image;
    rows = Math.max(rows, current.images + current.missing);
    for (const { name, test } of IMAGE_DRIFT_VIEWS) {
      try {
        const result = imageDrift(reference, current, { test });
        const histogram = test === 'intensity' ? intensityHistogram(reference, current) : inkByBlock(reference, current);
        features.push({ name, kind: 'image', ...result, missing: current.missing, histogram });
      } catch (err) {
        if (!(err instanceof DriftTestError)) throw err;
        skipped.push({ name, reason: err.message });
      }
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
  if (!isAscendingFinite(reference) || !isAscendingFinite(current))
    throw new RangeError('numericHistogram: both samples must be ascending and finite');
  return numericHistogramSorted(reference, current, bins);
}

function numericHistogramSorted(reference: Float64Array, current: Float64Array, bins: number): NumericHistogram {
  const dataMin = Math.min(reference[0], current[0]);
  const dataMax = Math.max(reference[reference.length - 1], current[current.length - 1]);
  const edges = equalWidthEdges(dataMin, dataMax, bins);
  return { edges, reference: histogramShares(reference, edges), current: histogramShares(current, edges) };
}

const shares = (values: number[]) => {
  const total = values.reduce((a, c) => a + c, 0);
  return values.map((c) => (total > 0 ? c / total : 0));
};

/** The pooled pixel intensities of both sides, in the reference's bins, for the report. */
function intensityHistogram(reference: ImageProfile, current: ImageWindow): NumericHistogram {
  return { edges: [...reference.intensity.edges], reference: shares(reference.intensity.counts), current: shares(current.intensityCounts) };
}

/** Where the ink is, for the report: each block's share of the mean image's ink, by block number (row-major). */
function inkByBlock(reference: ImageProfile, current: ImageWindow): NumericHistogram {
  const blocks = reference.blocks.mean.length;
  return {
    edges: Array.from({ length: blocks + 1 }, (_, i) => i),
    reference: shares(reference.blocks.mean),
    current: shares(current.blockMeans),
  };
}

/**
 * Category shares of both sides for a report: the `top` categories by combined share (reference
 * share + current share; ties by name), then OTHER_CATEGORY holding the rest when any is left.
 * Shares are count / total of the positive counts of each side (0 for a side with no counts), so
 * each side sums to 1. A category literally named '(other)' is listed as itself.
 */
export function categoryHistogram(
  reference: Record<string, number>,
  current: Record<string, number>,
  top = HISTOGRAM_TOP_CATEGORIES,
): CategoryHistogram {
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
