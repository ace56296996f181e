/**
 * The implementation of every test in the catalogue (core/drift/catalogue.ts), by feature kind.
 * core/drift/feature-drift.ts checks the choice against the catalogue first, so a test is only run
 * on a feature kind it lists.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import type { ImageProfile } from '../../profile.ts';
import type { DriftTestName } from '../catalogue.ts';
import type { ImageWindow } from '../image.ts';
import { blockMeansTest } from './block-means.ts';
import { chiSquareTest } from './chi-square.ts';
import type { TestOutcome } from './inputs.ts';
import { jensenShannonCategoriesTest, jensenShannonTest } from './jensen-shannon.ts';
import { ksTest } from './ks.ts';
import { lInfinityTest } from './linf.ts';
import { intensityTest } from './intensity.ts';
import { psiTest } from './psi.ts';
import { wassersteinTest } from './wasserstein.ts';

export type { TestOutcome } from './inputs.ts';

export interface DriftTestImplementation {
  /** On two non-empty ascending Float64Arrays of finite values. */
  number?: (reference: Float64Array, current: Float64Array) => TestOutcome;
  /** On two count tables (rows per category value); each checks its counts. */
  category?: (reference: Record<string, number>, current: Record<string, number>) => TestOutcome;
  /** On the training images' profile and a window of images summarised against it. */
  image?: (reference: ImageProfile, current: ImageWindow) => TestOutcome;
}

export const DRIFT_TEST_IMPLEMENTATIONS: Record<DriftTestName, DriftTestImplementation> = {
  ks: { number: ksTest },
  psi: { number: psiTest },
  wasserstein: { number: wassersteinTest },
  jensenshannon: { number: jensenShannonTest, category: jensenShannonCategoriesTest },
  chisquare: { category: chiSquareTest },
  linf: { category: lInfinityTest },
  intensity: { image: intensityTest },
  blockmeans: { image: blockMeansTest },
};
