/**
 * `blockmeans` drift test (images): are the current images' block means (the mean intensity of
 * each 4x4 block, core/drift/image.ts) those of the training images? A two-sample Hotelling-type
 * test with the training covariance: shifted, rotated or resized digits put their ink in other
 * blocks. Drift when the p-value is below the threshold.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import type { ImageProfile } from '../../profile.ts';
import { cholesky, inverseQuadraticForm } from '../../stats/cholesky.ts';
import { chiSquareSf } from '../../stats/gamma.ts';
import { DriftTestError } from '../catalogue.ts';
import type { ImageWindow } from '../image.ts';
import type { TestOutcome } from './inputs.ts';

/** Ridge added to the covariance's diagonal, as a share of the mean block variance. */
export const BLOCK_RIDGE = 0.01;

export interface BlockMeansResult {
  /** T² = d' (S + λI)⁻¹ d / (1/n + 1/N), d the difference of the mean embeddings. */
  statistic: number;
  /** P(chi²_df >= T²). */
  pValue: number;
  /** The number of blocks. */
  df: number;
}

/**
 * With N training images of covariance S and n current images, the difference d of the two mean
 * block vectors has covariance S (1/n + 1/N) when both come from the same writers, so by the
 * central limit theorem T² = d' S⁻¹ d / (1/n + 1/N) is about chi-square with one degree of freedom
 * per block (Hotelling's two-sample T² with the covariance taken from the larger, training side).
 *
 * Corner blocks that are blank in every training image make S singular, so λ = BLOCK_RIDGE x the
 * mean diagonal of S is added to it. That only makes T² smaller (S + λI >= S), so the p-value is
 * conservative: same-writer windows drift less often than the threshold says, never more. Ink in
 * a block blank in training still counts heavily (its variance is only λ).
 *
 * Throws DriftTestError when either side has no image or the block layouts differ.
 */
export function blockMeans(reference: ImageProfile, current: ImageWindow): BlockMeansResult {
  const { mean, covariance } = reference.blocks;
  const df = mean.length;
  if (current.blockMeans.length !== df) {
    throw new DriftTestError(`blockmeans: the current window has ${current.blockMeans.length} blocks, the reference ${df}`);
  }
  if (!(reference.images > 0) || !(current.images > 0)) {
    throw new DriftTestError(`blockmeans: both sides need images (reference ${reference.images}, current ${current.images})`);
  }
  let trace = 0;
  for (let i = 0; i < df; i++) trace += covariance[i * df + i];
  const ridge = BLOCK_RIDGE * Math.max(trace / df, 1e-12);
  const regularised = covariance.map((c, k) => (k % (df + 1) === 0 ? c + ridge : c));
  const d = mean.map((m, i) => current.blockMeans[i] - m);
  let factor: Float64Array;
  try {
    factor = cholesky(regularised, df);
  } catch (err) {
    throw new DriftTestError(`blockmeans: the reference covariance is unusable (${(err as Error).message})`);
  }
  const statistic = inverseQuadraticForm(factor, df, d) / (1 / current.images + 1 / reference.images);
  return { statistic, pValue: chiSquareSf(statistic, df), df };
}

export function blockMeansTest(reference: ImageProfile, current: ImageWindow): TestOutcome {
  const r = blockMeans(reference, current);
  return { statistic: r.statistic, pValue: r.pValue };
}
