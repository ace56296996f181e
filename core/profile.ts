/**
 * The profile of a model's training data, saved with the model as `profile.json` (ml/bundle.ts
 * buildProfile writes it) and read by monitoring: drift tests compare production inputs with it,
 * anomaly checks with its ranges and categories, prediction drift with its label counts.
 */

export interface FeatureProfile {
  /** 'category' for category features; absent (numeric) otherwise. */
  kind?: 'category';
  /** Rows with a numeric value (category features: with a present value, known or not). */
  n: number;
  /** Rows where the value was missing or not a number (category features: missing). */
  missing: number;
  /** Category features only: rows per value seen (ml/preprocess.ts categoryKey), spec values or not. */
  counts?: Record<string, number>;
  /** Population statistics of the present values (all 0 when n is 0, and for category features). */
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Ascending values; all of them, or PROFILE_SAMPLE_SIZE evenly spaced quantiles (core/stats/quantiles.ts sampleSorted). */
  sample: number[];
}

export interface ReferenceProfile {
  version: 1;
  /** Training rows the profile describes. */
  rows: number;
  features: Record<string, FeatureProfile>;
  /** Training label counts ({} for a regression model). */
  classCounts: Record<string, number>;
  /** A regression model's training labels, profiled as a numeric feature (prediction drift compares with it). */
  target?: FeatureProfile;
  /**
   * A regression model's 90th percentile of |label - prediction| on its training rows: monitoring
   * counts a prediction further off than this as an error, so the concept-drift detectors see an
   * error stream (about 10% errors while nothing changes).
   */
  errorThreshold?: number;
  /**
   * Image specs (spec `image`): the pixels summarised as images, in place of a sample per pixel
   * (the pixel features then keep their mean and std, the image's intensity range as min / max,
   * and an empty sample). Profiles from before it have samples per pixel and no `image`.
   */
  image?: ImageProfile;
}

/**
 * The training images in the two views the image drift tests compare (core/drift/image.ts):
 * how much ink (the intensity histogram of all pixels pooled) and where (the mean intensity of
 * each BLOCK_SIZE x BLOCK_SIZE block, a small embedding of each image, with its covariance).
 */
export interface ImageProfile {
  height: number;
  width: number;
  channels: number;
  /** Training images with every pixel a number; the image statistics describe these. */
  images: number;
  /** Pooled pixel intensities: equal-width bins over the training range, their counts, mean and std. */
  intensity: { edges: number[]; counts: number[]; mean: number; std: number };
  /**
   * Per image, the mean intensity of each block (row-major blocks of `size` x `size` pixels, all
   * channels; edge blocks may be smaller): their mean over the training images and their
   * population covariance (row-major, blocks x blocks).
   */
  blocks: { size: number; rows: number; cols: number; mean: number[]; covariance: number[] };
}
