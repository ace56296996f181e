/**
 * Data drift of one feature: the current window against the reference profile saved with the
 * model at training time (ml/bundle.ts FeatureProfile: an ascending `sample` for numeric features,
 * `counts` per value for category features), by one test of the catalogue (catalogue.ts; one file
 * per test under tests/).
 *
 * PURE module: no Node, tfjs or npm imports. It is imported by Temporal workflow code, so it must
 * stay deterministic and free of I/O.
 *
 * The tests, their defaults and the automatic choice follow Evidently's legacy stattests
 * (evidently/legacy/calculations/stattests/*.py); every formula is documented where it is
 * implemented, with the places where it deliberately differs.
 *
 * `numericDriftSorted` is `featureDrift` for numeric samples that are already ascending
 * Float64Arrays (core/drift/data-drift.ts sorts each current column once and reuses the sort).
 */
import {
  AUTO_TEST_MAX_ROWS,
  DRIFT_TEST_NAMES,
  DRIFT_TESTS,
  DriftTestError,
  type DriftTestChoice,
  type DriftTestInfo,
  type DriftTestName,
  type FeatureKind,
} from './catalogue.ts';
import type { ImageProfile } from '../profile.ts';
import { countFinite, finiteSorted, firstUnsortedIndex } from '../stats/sort.ts';
import type { ImageWindow } from './image.ts';
import { categoryTotal } from './tests/inputs.ts';
import { DRIFT_TEST_IMPLEMENTATIONS, type TestOutcome } from './tests/index.ts';

export type FeatureDriftInput =
  | { kind: 'number'; /** ascending sample */ reference: number[]; current: number[] }
  | { kind: 'category'; reference: Record<string, number>; current: Record<string, number> };

export interface FeatureDriftResult {
  test: DriftTestName;
  /** The test statistic: KS D, chi-square X², or the distance. */
  statistic: number;
  /** Only for p-value tests (ks, chisquare). */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  /** Current rows the test saw: finite values (number) or the sum of the counts (category). */
  rows: number;
}

// ---------------------------------------------------------------------------------------------
// the per-feature entry point

/**
 * Runs one drift test on one feature.
 *
 * Automatic choice (no `choice.test`), Evidently's default with the row count taken from the
 * current window: numeric features use `ks` up to AUTO_TEST_MAX_ROWS (1000) current rows and
 * `wasserstein` beyond; category features use `chisquare` up to 1000 rows and `jensenshannon`
 * beyond. (Evidently counts the reference rows instead, and also switches to chi-square / z-test /
 * Jensen-Shannon for numeric columns with at most 5 distinct values; neither is done here: the
 * reference is a bounded sample, and overrides cover the rest.)
 *
 * `choice.threshold` replaces the test's default threshold (DRIFT_TESTS). A p-value test drifts
 * when pValue < threshold, a distance when statistic >= threshold.
 *
 * Numeric samples drop non-finite values (as the profile's sample does); category counts must be
 * finite and non-negative. Throws DriftTestError when the test does not apply to the feature kind,
 * the threshold is invalid, or either side is empty.
 */
export function featureDrift(input: FeatureDriftInput, choice: DriftTestChoice = {}): FeatureDriftResult {
  const rows = input.kind === 'number' ? countFinite(input.current) : categoryTotal(input.current, 'current');
  if (rows === 0)
    throw new DriftTestError(`featureDrift: the current window has no ${input.kind === 'number' ? 'numeric values' : 'category values'}`);
  const refRows = input.kind === 'number' ? countFinite(input.reference) : categoryTotal(input.reference, 'reference');
  if (refRows === 0)
    throw new DriftTestError(`featureDrift: the reference has no ${input.kind === 'number' ? 'numeric values' : 'category values'}`);

  const { test, threshold } = resolveChoice('featureDrift', input.kind, rows, choice);
  const { statistic, pValue } =
    input.kind === 'number'
      ? runNumeric(test, finiteSorted(input.reference), finiteSorted(input.current))
      : runCategory(test, input.reference, input.current);
  return outcome(test, threshold, rows, statistic, pValue);
}

/**
 * `featureDrift` for a numeric feature whose samples are already ascending Float64Arrays of finite
 * values (e.g. a profile sample and a current column sorted once by the caller): the same
 * automatic choice, thresholds, statistics and results, without copying or re-sorting either side.
 * For large windows this is the difference between O(n) and O(n log n) per test, and it lets the
 * caller reuse its sort (for a histogram, say).
 *
 * Throws a RangeError when either array is not ascending or holds a non-finite value, and
 * DriftTestError as featureDrift does (a test that does not apply, an invalid threshold, an empty side).
 */
export function numericDriftSorted(reference: Float64Array, current: Float64Array, choice: DriftTestChoice = {}): FeatureDriftResult {
  requireAscendingFinite('numericDriftSorted', 'reference', reference);
  requireAscendingFinite('numericDriftSorted', 'current', current);
  const rows = current.length;
  if (rows === 0) throw new DriftTestError('featureDrift: the current window has no numeric values');
  if (reference.length === 0) throw new DriftTestError('featureDrift: the reference has no numeric values');
  const { test, threshold } = resolveChoice('featureDrift', 'number', rows, choice);
  const { statistic, pValue } = runNumeric(test, reference, current);
  return outcome(test, threshold, rows, statistic, pValue);
}

/**
 * Runs one image test of the catalogue (features ['image']) on the training images' profile and a
 * window of images summarised against it (core/drift/image.ts); `rows` of the result are the
 * window's complete images. Throws DriftTestError for a test that is not an image test, an invalid
 * threshold, or a window without a complete image.
 */
export function imageDrift(
  reference: ImageProfile,
  current: ImageWindow,
  choice: DriftTestChoice & { test: DriftTestName },
): FeatureDriftResult {
  if (current.images === 0)
    throw new DriftTestError(`imageDrift: the current window has no complete image (${current.missing} with a missing pixel)`);
  const { test, threshold } = resolveChoice('imageDrift', 'image', current.images, choice);
  const run = DRIFT_TEST_IMPLEMENTATIONS[test].image;
  if (!run) throw new DriftTestError(`imageDrift: the '${test}' test does not apply to images`);
  const { statistic, pValue } = run(reference, current);
  return outcome(test, threshold, current.images, statistic, pValue);
}

/** The test and threshold for a feature: `choice` over the automatic choice, both checked. */
function resolveChoice(what: string, kind: FeatureKind, rows: number, choice: DriftTestChoice): { test: DriftTestName; threshold: number } {
  const test = choice.test ?? autoTest(kind, rows);
  // guards callers that pass unchecked strings (e.g. from JSON)
  if (!(DRIFT_TEST_NAMES as readonly string[]).includes(test)) {
    throw new DriftTestError(`${what}: unknown drift test '${String(test)}' (known: ${DRIFT_TEST_NAMES.join(', ')})`);
  }
  const info: DriftTestInfo = DRIFT_TESTS[test];
  if (!info.features.includes(kind)) {
    throw new DriftTestError(`${what}: the '${test}' test does not apply to ${kind} features (it needs ${info.features.join(' or ')})`);
  }
  const threshold = choice.threshold ?? info.defaultThreshold;
  checkThreshold(test, info, threshold);
  return { test, threshold };
}

function outcome(test: DriftTestName, threshold: number, rows: number, statistic: number, pValue: number | undefined): FeatureDriftResult {
  const drifted = pValue !== undefined ? pValue < threshold : statistic >= threshold;
  return pValue !== undefined ? { test, statistic, pValue, threshold, drifted, rows } : { test, statistic, threshold, drifted, rows };
}

function autoTest(kind: FeatureKind, rows: number): DriftTestName {
  if (kind === 'image') throw new DriftTestError('featureDrift: image tests are always named (imageDrift)');
  if (kind === 'number') return rows <= AUTO_TEST_MAX_ROWS ? 'ks' : 'wasserstein';
  return rows <= AUTO_TEST_MAX_ROWS ? 'chisquare' : 'jensenshannon';
}

function checkThreshold(test: DriftTestName, info: DriftTestInfo, threshold: number): void {
  const ok =
    typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0 && (info.result === 'distance' || threshold <= 1);
  if (!ok) {
    const range = info.result === 'p-value' ? 'a p-value threshold in [0, 1]' : 'a finite distance threshold >= 0';
    throw new DriftTestError(`featureDrift: '${test}' needs ${range}, got ${threshold}`);
  }
}

function runNumeric(test: DriftTestName, reference: Float64Array, current: Float64Array): TestOutcome {
  const run = DRIFT_TEST_IMPLEMENTATIONS[test].number;
  if (!run) throw new DriftTestError(`featureDrift: the '${test}' test does not apply to number features`);
  return run(reference, current);
}

function runCategory(test: DriftTestName, reference: Record<string, number>, current: Record<string, number>): TestOutcome {
  const run = DRIFT_TEST_IMPLEMENTATIONS[test].category;
  if (!run) throw new DriftTestError(`featureDrift: the '${test}' test does not apply to category features`);
  return run(reference, current);
}

function requireAscendingFinite(what: string, side: string, values: Float64Array): void {
  if (!(values instanceof Float64Array)) throw new RangeError(`${what}: the ${side} sample must be a Float64Array`);
  const i = firstUnsortedIndex(values);
  if (i !== -1) throw new RangeError(`${what}: the ${side} sample must be ascending and finite (index ${i}: ${values[i]})`);
}
