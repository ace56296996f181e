/**
 * Images as the drift tests see them: which features are the pixels, the reference summary of the
 * training images (core/profile.ts ImageProfile, saved with the model) and the same summary of a
 * window of served images (ImageWindow), in two views:
 * - intensity: a histogram of every pixel's value, pooled (thicker or fainter strokes move it);
 * - blocks: each image reduced to the mean intensity of its 4x4 blocks (49 numbers for 28x28), a
 *   small embedding that keeps where the ink is (shifted, rotated or larger digits move it).
 * A few thousand numbers per model instead of a sample per pixel.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import type { ImageProfile } from '../profile.ts';
import { parseNumeric } from '../validation.ts';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** Side of the square blocks of the embedding, in pixels. */
export const BLOCK_SIZE = 4;
/** Equal-width bins of the intensity histogram over the training range. */
export const INTENSITY_BINS = 16;

/** The summary of a window of served images, against a reference ImageProfile. */
export interface ImageWindow {
  /** Images with every pixel a number; the rest are counted in `missing` and left out. */
  images: number;
  missing: number;
  /** Pooled pixel values per reference intensity bin (values outside the training range in the end bins). */
  intensityCounts: number[];
  /** The mean over the images of each block's mean intensity (reference block order). */
  blockMeans: number[];
}

/**
 * The pixel features of an image spec: its numeric features, in order (ml/preprocess.ts reads
 * them so). Throws a RangeError when their count is not height x width x channels.
 */
export function pixelNames(features: ReadonlyArray<{ name: string; type?: string }>, shape: ImageShape): string[] {
  const pixels = features.filter((f) => f.type !== 'category').map((f) => f.name);
  const want = shape.height * shape.width * shape.channels;
  if (pixels.length !== want) {
    throw new RangeError(
      `pixelNames: an image of ${shape.height}x${shape.width}x${shape.channels} needs ${want} numeric features (the pixels), got ${pixels.length}`,
    );
  }
  return pixels;
}

/** Block of every pixel (row-major, channels last) and pixels per block. */
function blockLayout(shape: ImageShape, size: number) {
  const rows = Math.ceil(shape.height / size);
  const cols = Math.ceil(shape.width / size);
  const blockOf = new Int32Array(shape.height * shape.width * shape.channels);
  const perBlock = new Float64Array(rows * cols);
  for (let y = 0; y < shape.height; y++)
    for (let x = 0; x < shape.width; x++)
      for (let c = 0; c < shape.channels; c++) {
        const b = Math.floor(y / size) * cols + Math.floor(x / size);
        blockOf[(y * shape.width + x) * shape.channels + c] = b;
        perBlock[b]++;
      }
  return { rows, cols, blocks: rows * cols, blockOf, perBlock };
}

/** Reads the pixels of `row` into `into`; false when any is missing or not a number. */
function readImage(row: Record<string, unknown>, pixels: readonly string[], into: Float64Array): boolean {
  for (let i = 0; i < pixels.length; i++) {
    const v = row[pixels[i]];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
      into[i] = v;
    } else {
      const parsed = parseNumeric(v);
      if (parsed.kind !== 'number') return false;
      into[i] = parsed.value;
    }
  }
  return true;
}

function embed(image: Float64Array, layout: ReturnType<typeof blockLayout>, into: Float64Array): void {
  into.fill(0);
  for (let i = 0; i < image.length; i++) into[layout.blockOf[i]] += image[i];
  for (let b = 0; b < into.length; b++) into[b] /= layout.perBlock[b];
}

/** Bin of `v` among equal-width `edges`, values outside them in the end bins. */
function binOf(v: number, edges: readonly number[]): number {
  const k = edges.length - 1;
  const i = Math.floor(((v - edges[0]) / (edges[k] - edges[0])) * k);
  return i < 0 ? 0 : i >= k ? k - 1 : i;
}

/**
 * The training images' ImageProfile. Images with a missing or non-numeric pixel are left out
 * (the per-pixel profile still counts them as missing). Throws a RangeError when no image is
 * complete.
 */
export function imageProfile(rows: ReadonlyArray<Record<string, unknown>>, pixels: readonly string[], shape: ImageShape): ImageProfile {
  const layout = blockLayout(shape, BLOCK_SIZE);
  const B = layout.blocks;
  const image = new Float64Array(pixels.length);
  const e = new Float64Array(B);
  const complete: Float64Array[] = [];
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  const mean = new Float64Array(B);
  const cross = new Float64Array(B * B);
  for (const row of rows) {
    if (!readImage(row, pixels, image)) continue;
    complete.push(Float64Array.from(image));
    for (const v of image) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      sumSq += v * v;
    }
    embed(image, layout, e);
    for (let i = 0; i < B; i++) {
      mean[i] += e[i];
      for (let j = 0; j <= i; j++) cross[i * B + j] += e[i] * e[j];
    }
  }
  const n = complete.length;
  if (n === 0) throw new RangeError('imageProfile: no training image has every pixel a number');
  // The range widened as numpy widens a constant sample, so the bins are never empty intervals.
  const [lo, hi] = min < max ? [min, max] : [min - 0.5, max + 0.5];
  const edges = Array.from({ length: INTENSITY_BINS + 1 }, (_, i) => (i === INTENSITY_BINS ? hi : lo + (i * (hi - lo)) / INTENSITY_BINS));
  const counts = new Array<number>(INTENSITY_BINS).fill(0);
  for (const img of complete) for (const v of img) counts[binOf(v, edges)]++;
  const values = n * pixels.length;
  const pooledMean = sum / values;
  for (let i = 0; i < B; i++) mean[i] /= n;
  const covariance = new Array<number>(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j <= i; j++) {
      const c = cross[i * B + j] / n - mean[i] * mean[j];
      covariance[i * B + j] = covariance[j * B + i] = c;
    }
  return {
    height: shape.height,
    width: shape.width,
    channels: shape.channels,
    images: n,
    intensity: { edges, counts, mean: pooledMean, std: Math.sqrt(Math.max(0, sumSq / values - pooledMean * pooledMean)) },
    blocks: { size: BLOCK_SIZE, rows: layout.rows, cols: layout.cols, mean: [...mean], covariance },
  };
}

/**
 * A window of served rows summarised against the reference: intensity counts in its bins, block
 * means in its blocks. Throws a RangeError when `pixels` does not fit the reference's shape.
 */
export function imageWindow(rows: ReadonlyArray<Record<string, unknown>>, pixels: readonly string[], reference: ImageProfile): ImageWindow {
  if (pixels.length !== reference.height * reference.width * reference.channels) {
    throw new RangeError(
      `imageWindow: the reference images are ${reference.height}x${reference.width}x${reference.channels}, got ${pixels.length} pixels`,
    );
  }
  const layout = blockLayout(reference, reference.blocks.size);
  const image = new Float64Array(pixels.length);
  const e = new Float64Array(layout.blocks);
  const blockSums = new Float64Array(layout.blocks);
  const intensityCounts = new Array<number>(reference.intensity.counts.length).fill(0);
  let images = 0;
  for (const row of rows) {
    if (!readImage(row, pixels, image)) continue;
    images++;
    for (const v of image) intensityCounts[binOf(v, reference.intensity.edges)]++;
    embed(image, layout, e);
    for (let b = 0; b < e.length; b++) blockSums[b] += e[b];
  }
  return {
    images,
    missing: rows.length - images,
    intensityCounts,
    blockMeans: [...blockSums].map((s) => (images ? s / images : 0)),
  };
}
