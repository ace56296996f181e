/**
 * The catalogue of drift tests: names, result kinds, default thresholds and the feature kinds each
 * applies to, with no implementation behind it. core/spec.ts validates specs against these names,
 * and workflow code imports core/spec.ts: importing the tests themselves (core/drift/tests/*,
 * core/stats/*) would pull every statistic into the workflow bundle.
 *
 * PURE module: no imports at all.
 *
 * | test          | features | result    | default threshold | drift when            |
 * | ------------- | -------- | --------- | ----------------- | --------------------- |
 * | ks            | number   | p-value   | 0.05              | p < threshold         |
 * | psi           | number   | distance  | 0.1               | statistic >= threshold|
 * | wasserstein   | number   | distance  | 0.1               | statistic >= threshold|
 * | jensenshannon | both     | distance  | 0.1               | statistic >= threshold|
 * | chisquare     | category | p-value   | 0.05              | p < threshold         |
 * | linf          | category | distance  | 0.1               | statistic >= threshold|
 * | intensity     | image    | distance  | 0.1               | statistic >= threshold|
 * | blockmeans    | image    | p-value   | 0.05              | p < threshold         |
 *
 * One file per test under core/drift/tests/ (tests/index.ts maps these names to them);
 * core/drift/feature-drift.ts chooses and runs them. The image tests run on an image spec's pixels
 * taken together (core/drift/image.ts), never on a single feature: every image test, every time.
 */

/** Every drift test, for spec schemas: `z.enum(DRIFT_TEST_NAMES)`. */
export const DRIFT_TEST_NAMES = ['ks', 'psi', 'wasserstein', 'jensenshannon', 'chisquare', 'linf', 'intensity', 'blockmeans'] as const;
export type DriftTestName = (typeof DRIFT_TEST_NAMES)[number];

/** 'image': all the pixels of an image spec together. */
export type FeatureKind = 'number' | 'category' | 'image';

export interface DriftTestInfo {
  /** 'p-value': drift when pValue < threshold. 'distance': drift when statistic >= threshold. */
  readonly result: 'p-value' | 'distance';
  readonly defaultThreshold: number;
  /** Feature kinds the test applies to. */
  readonly features: readonly FeatureKind[];
}

/** Result kind, default threshold and applicable feature kinds of each test. */
export const DRIFT_TESTS = {
  ks: { result: 'p-value', defaultThreshold: 0.05, features: ['number'] },
  psi: { result: 'distance', defaultThreshold: 0.1, features: ['number'] },
  wasserstein: { result: 'distance', defaultThreshold: 0.1, features: ['number'] },
  jensenshannon: { result: 'distance', defaultThreshold: 0.1, features: ['number', 'category'] },
  chisquare: { result: 'p-value', defaultThreshold: 0.05, features: ['category'] },
  linf: { result: 'distance', defaultThreshold: 0.1, features: ['category'] },
  intensity: { result: 'distance', defaultThreshold: 0.1, features: ['image'] },
  blockmeans: { result: 'p-value', defaultThreshold: 0.05, features: ['image'] },
} as const satisfies Record<DriftTestName, DriftTestInfo>;

/** The automatic choice uses the small-sample tests up to this many current rows (inclusive). */
export const AUTO_TEST_MAX_ROWS = 1000;

/** Per-feature override of the automatic choice; either field may be left out. */
export type DriftTestChoice = { test?: DriftTestName; threshold?: number };

/**
 * Thrown for a test that does not apply to the feature kind, an invalid threshold, or a sample
 * with nothing to compare (empty, or only non-finite values / zero counts). Callers skip the feature.
 */
export class DriftTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriftTestError';
  }
}
