/**
 * `intensity` drift test (images): the first Wasserstein distance between the pooled pixel
 * intensity histograms of the training images and of the current window, normed by the training
 * pixels' standard deviation, as the `wasserstein` test norms it. Thicker, fainter or inverted
 * strokes move it; where the ink is does not (the `blockmeans` test sees that). Drift when the
 * distance reaches the threshold.
 *
 * Why a distance and not a chi-square on the counts: the pixels of one image are not independent
 * draws (a thick stroke darkens many at once), so a chi-square over ~800 pixels per image would
 * call any two windows different. The normed distance does not grow with the window; on MNIST it
 * stays under 0.03 between windows of 200 fresh digits and is about 0.3 for dilated strokes
 * (test/unit/image-drift.test.ts), so the usual 0.1 separates them.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import type { ImageProfile } from '../../profile.ts';
import { DriftTestError } from '../catalogue.ts';
import type { ImageWindow } from '../image.ts';
import { WASSERSTEIN_MIN_STD } from './wasserstein.ts';
import type { TestOutcome } from './inputs.ts';

/**
 * W1 of two histograms over the same bins, each bin's mass at its centre: the area between the
 * two CDFs, sum_i |F_r(i) - F_c(i)| (centre_{i+1} - centre_i), divided by max(reference std, 0.001).
 * Throws DriftTestError when either side is empty or the bins disagree.
 */
export function intensityDistance(reference: ImageProfile, current: ImageWindow): number {
  const { edges, counts, std } = reference.intensity;
  if (current.intensityCounts.length !== counts.length) {
    throw new DriftTestError(`intensity: the current window has ${current.intensityCounts.length} bins, the reference ${counts.length}`);
  }
  const refTotal = counts.reduce((a, c) => a + c, 0);
  const curTotal = current.intensityCounts.reduce((a, c) => a + c, 0);
  if (!(refTotal > 0) || !(curTotal > 0)) {
    throw new DriftTestError(`intensity: both sides need pixels (reference ${refTotal}, current ${curTotal})`);
  }
  let fr = 0;
  let fc = 0;
  let distance = 0;
  for (let i = 0; i < counts.length - 1; i++) {
    fr += counts[i] / refTotal;
    fc += current.intensityCounts[i] / curTotal;
    const step = (edges[i + 2] - edges[i]) / 2; // centre of bin i+1 minus centre of bin i
    distance += Math.abs(fr - fc) * step;
  }
  return distance / Math.max(std, WASSERSTEIN_MIN_STD);
}

export function intensityTest(reference: ImageProfile, current: ImageWindow): TestOutcome {
  return { statistic: intensityDistance(reference, current) };
}
