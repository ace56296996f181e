/**
 * Input anomalies of a window of served rows, checked against the feature specs and the reference
 * profile of the training data (ml/bundle.ts ReferenceProfile).
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code). It
 * imports only core/validation.ts, which is pure, so that "is this a number?" is decided exactly
 * as in data validation, training and serving (`parseNumeric`).
 *
 * Per feature, four kinds of anomaly, each counted with up to `maxExamples` examples:
 * - missing: no value (undefined, null, NaN, empty or blank string) - the model imputes it;
 * - wrongType: a number feature whose value is not a number (parseNumeric 'invalid': a non-numeric
 *   string, boolean, object, +/-Infinity; numeric strings such as "3.5" are fine), or a category
 *   feature given an object/array or a non-finite number (no category value looks like that);
 * - outOfRange: a number outside the training range [profile.min, profile.max];
 * - unseenCategory: a category value not among the training values (profile.counts).
 * A row is anomalous when any feature has any of them.
 */
import { labelValue, parseNumeric } from '../validation.ts';

/** The parts of core/spec.ts FeatureSpec used here. */
export interface AnomalyFeatureSpec {
  name: string;
  type: 'number' | 'category';
}

/** The parts of ml/bundle.ts FeatureProfile used here (a FeatureProfile is one). */
export interface FeatureProfileLike {
  /** Rows with a present value in training; a range is only checked when n > 0. */
  n: number;
  min: number;
  max: number;
  /** Category features: training rows per value (keys as ml/preprocess.ts categoryKey). */
  counts?: Readonly<Record<string, number>>;
}

/** The parts of ml/bundle.ts ReferenceProfile used here (a ReferenceProfile is one). */
export interface ReferenceProfileLike {
  features: Readonly<Record<string, FeatureProfileLike>>;
}

export type AnomalyKind = 'missing' | 'wrongType' | 'outOfRange' | 'unseenCategory';

export interface AnomalyExample {
  /** 0-based index of the row in the window. */
  row: number;
  /** The value as received (long strings and objects shortened, see exampleValue). */
  value: unknown;
}

export interface FeatureAnomalies {
  missing: number;
  wrongType: number;
  outOfRange: number;
  unseenCategory: number;
  /** The first few rows of each kind, in row order. */
  examples: Record<AnomalyKind, AnomalyExample[]>;
}

export interface AnomalyReport {
  rows: number;
  features: Record<string, FeatureAnomalies>;
  /** Rows with at least one anomaly of any kind in any feature. */
  anomalousRows: number;
  /** anomalousRows / rows; NaN for an empty window. */
  anomalyRate: number;
  /**
   * Features the profile does not describe: only missing / wrongType are checked for them (there is
   * no training range or category list to compare with).
   */
  unprofiled: string[];
}

export interface AnomalyOptions {
  /** Examples kept per feature and kind; default 3. */
  maxExamples?: number;
}

/** Strings and serialised objects in examples are cut to this many characters. */
export const EXAMPLE_MAX_CHARS = 80;

/**
 * Checks every row of the window against every spec feature (see the module comment). Keys of a
 * row that are not spec features are ignored; a row that is not an object counts as all-missing.
 */
export function detectAnomalies(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: readonly AnomalyFeatureSpec[],
  profile: ReferenceProfileLike,
  options: AnomalyOptions = {},
): AnomalyReport {
  const maxExamples = options.maxExamples ?? 3;
  if (!Number.isInteger(maxExamples) || maxExamples < 0) {
    throw new RangeError(`detectAnomalies: maxExamples must be a non-negative integer, got ${maxExamples}`);
  }
  const anomalous = new Uint8Array(rows.length);
  const report: Record<string, FeatureAnomalies> = {};
  const unprofiled: string[] = [];
  for (const feature of features) {
    const fp = Object.hasOwn(profile.features, feature.name) ? profile.features[feature.name] : undefined;
    if (!fp) unprofiled.push(feature.name);
    const check = feature.type === 'category' ? categoryCheck(fp) : numberCheck(fp);
    const out = emptyFeatureAnomalies();
    rows.forEach((row, i) => {
      const value = isObject(row) ? row[feature.name] : undefined;
      const kind = check(value);
      if (kind === undefined) return;
      anomalous[i] = 1;
      out[kind]++;
      if (out.examples[kind].length < maxExamples) out.examples[kind].push({ row: i, value: exampleValue(value) });
    });
    report[feature.name] = out;
  }
  const anomalousRows = anomalous.reduce((s, v) => s + v, 0);
  return {
    rows: rows.length,
    features: report,
    anomalousRows,
    anomalyRate: rows.length === 0 ? NaN : anomalousRows / rows.length,
    unprofiled,
  };
}

/** Classifies one cell: the anomaly it has, or undefined when it is fine. */
type CellCheck = (value: unknown) => AnomalyKind | undefined;

/**
 * Number features: parseNumeric decides missing / number / invalid, exactly as validation and
 * ml/preprocess.ts do. The range is the training [min, max]; with no training values (n = 0) or no
 * profile there is no range to check.
 */
function numberCheck(fp: FeatureProfileLike | undefined): CellCheck {
  const hasRange = fp !== undefined && fp.n > 0;
  return (value) => {
    const parsed = parseNumeric(value);
    if (parsed.kind === 'missing') return 'missing';
    if (parsed.kind === 'invalid') return 'wrongType';
    if (hasRange && (parsed.value < fp.min || parsed.value > fp.max)) return 'outOfRange';
    return undefined;
  };
}

/**
 * Category features: the value's key is `labelValue(value)`, the very rule of ml/preprocess.ts
 * `categoryKey` (= labelValue(value) ?? undefined) that keyed profile.counts in training; it is
 * not imported from there to keep core/ independent of ml/ (test/unit/anomalies.test.ts pins the
 * two together). Missing = no key (undefined, null, blank string). Numbers and booleans are fine:
 * categoryKey turns 3 into "3" and true into "true", which training may well have seen.
 */
function categoryCheck(fp: FeatureProfileLike | undefined): CellCheck {
  const counts = fp?.counts;
  return (value) => {
    if (typeof value === 'number' && Number.isNaN(value)) return 'missing'; // NaN is missing everywhere
    if ((value !== null && typeof value === 'object') || (typeof value === 'number' && !Number.isFinite(value))) {
      return 'wrongType';
    }
    const key = labelValue(value);
    if (key === null) return 'missing';
    if (counts && !Object.hasOwn(counts, key)) return 'unseenCategory';
    return undefined;
  };
}

function emptyFeatureAnomalies(): FeatureAnomalies {
  return {
    missing: 0,
    wrongType: 0,
    outOfRange: 0,
    unseenCategory: 0,
    examples: { missing: [], wrongType: [], outOfRange: [], unseenCategory: [] },
  };
}

function isObject(row: unknown): row is Record<string, unknown> {
  return row !== null && typeof row === 'object';
}

/**
 * The value kept in an example: primitives as they are (undefined = the key was absent), strings
 * longer than EXAMPLE_MAX_CHARS cut with "…", objects and arrays as their (cut) JSON text, so a
 * report stays small however large the offending value was.
 */
export function exampleValue(value: unknown): unknown {
  if (typeof value === 'string') return shorten(value);
  if (value !== null && typeof value === 'object') return shorten(safeJson(value));
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(value);
  return value;
}

function shorten(s: string): string {
  return s.length > EXAMPLE_MAX_CHARS ? `${s.slice(0, EXAMPLE_MAX_CHARS)}…` : s;
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // cyclic or BigInt-holding objects
  }
}
