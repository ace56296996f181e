/**
 * ADWIN's adaptive window (river rust_src/adwin.rs, AdaptiveWindowing): exponential-histogram
 * buckets, their compression, and the cut test between two sub-windows. detectors.ts holds the
 * detector state and its update; this is the window arithmetic behind `stepAdwin`.
 *
 * PURE module: no Node or npm imports; deterministic. The arithmetic keeps river's operation
 * order so that the floating-point results (and thus the cut decisions) are the same.
 */
import type { AdwinState } from './detectors.ts';

export function insertElement(s: AdwinState, value: number): void {
  if (s.levels.length === 0) s.levels.push({ totals: [], variances: [] }); // defensive: river keeps level 0
  s.levels[0].totals.push(value);
  s.levels[0].variances.push(0);

  // Streaming update of the sum of squared deviations (Welford), before the total grows.
  s.width += 1;
  let incrementalVariance = 0;
  if (s.width > 1) {
    const d = value - s.total / (s.width - 1);
    incrementalVariance = ((s.width - 1) * d * d) / s.width;
  }
  s.variance += incrementalVariance;
  s.total += value;

  compressBuckets(s);
}

/** When a level holds maxBuckets + 1 buckets, merge its two oldest into one bucket of the next level. */
function compressBuckets(s: AdwinState): void {
  const { maxBuckets } = s.params;
  for (let idx = 0; s.levels[idx].totals.length === maxBuckets + 1; idx++) {
    const level = s.levels[idx];
    const n1 = 2 ** idx;
    const [t0, t1] = level.totals;
    const [v0, v1] = level.variances;
    const mu1 = t0 / n1;
    const mu2 = t1 / n1;
    const temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
    if (idx + 1 >= s.levels.length) s.levels.push({ totals: [], variances: [] });
    s.levels[idx + 1].totals.push(t0 + t1);
    s.levels[idx + 1].variances.push(v0 + v1 + temp);
    level.totals.splice(0, 2);
    level.variances.splice(0, 2);
  }
}

/** Drop the oldest bucket (the first of the last level) from the window. */
function deleteElement(s: AdwinState): void {
  const last = s.levels.length - 1;
  const level = s.levels[last];
  const n = 2 ** last;
  const u = level.totals[0];
  const v = level.variances[0];
  const mu = u / n;

  s.width -= n;
  s.total -= u;
  const muWindow = s.total / s.width;
  s.variance -= v + (n * s.width * (mu - muWindow) * (mu - muWindow)) / (n + s.width);

  level.totals.shift();
  level.variances.shift();
  if (level.totals.length === 0) s.levels.pop();
}

/**
 * Every `clock` values (once the window exceeds the grace period) scan the cut points from the
 * oldest bucket to the newest; on the first cut whose two sides differ significantly drop the oldest
 * bucket and rescan, until no cut is significant. Returns whether anything was dropped.
 */
export function detectChange(s: AdwinState): boolean {
  const { clock, gracePeriod, minWindowLength } = s.params;
  let changeDetected = false;
  s.tick += 1;
  if (s.tick % clock !== 0 || !(s.width > gracePeriod)) return false;

  let reduceWidth = true;
  while (reduceWidth) {
    reduceWidth = false;
    let n0 = 0;
    let n1 = s.width;
    let u0 = 0;
    let u1 = s.total;
    scan: for (let idx = s.levels.length - 1; idx >= 0; idx--) {
      const bucketSize = 2 ** idx;
      const totals = s.levels[idx].totals;
      for (let k = 0; k < totals.length; k++) {
        n0 += bucketSize;
        n1 -= bucketSize;
        u0 += totals[k];
        u1 -= totals[k];
        if (idx === 0 && k === totals.length - 1) break scan; // no cut after the newest bucket
        const deltaMean = u0 / n0 - u1 / n1;
        if (n1 >= minWindowLength && n0 >= minWindowLength && cutIsSignificant(s, n0, n1, deltaMean)) {
          reduceWidth = true;
          changeDetected = true;
          if (s.width > 0) {
            deleteElement(s);
            break scan;
          }
        }
      }
    }
  }
  return changeDetected;
}

/**
 * |mean(W0) - mean(W1)| > epsilon with, for the whole window of width W and sum of squared
 * deviations V, delta' = ln(2 ln(W) / delta) and m = 1/(n0 - L + 1) + 1/(n1 - L + 1)
 * (L = minWindowLength):  epsilon = sqrt(2 m (V / W) delta') + (2/3) delta' m.
 */
function cutIsSignificant(s: AdwinState, n0: number, n1: number, deltaMean: number): boolean {
  const { delta, minWindowLength } = s.params;
  const deltaPrime = Math.log((2 * Math.log(s.width)) / delta);
  const mRecip = 1 / (n0 - minWindowLength + 1) + 1 / (n1 - minWindowLength + 1);
  const epsilon = Math.sqrt(2 * mRecip * (s.variance / s.width) * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
  return Math.abs(deltaMean) > epsilon;
}
