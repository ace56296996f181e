/**
 * CBPE on real streams: the weather and flights streams of bench/drift-eval (setup.ts), the way
 * Perennial estimates a champion's accuracy while labels are delayed. Per stream and training
 * seed, the initial model learns the spec's training window of the initial data as a retrain's
 * trial does (activities/data.ts splitSnapshot: its `train` part) with drift-eval's one training
 * configuration, and is calibrated on the holdout that retrain would evaluate it on (the window's
 * last holdoutFraction) by the code the retrain uses (core/estimation/champion-estimate.ts). It
 * then serves every production window without retraining; per window, the estimate (the logged
 * predictions' probabilities, no label) against the realised accuracy (with the labels), next to
 * two label-free baselines: the raw confidence (mean top probability, uncalibrated) and the holdout
 * accuracy (assuming nothing changed).
 *
 * A window's realised accuracy is itself a binomial draw around what the model is expected to get:
 * `samplingNoise` is the mean absolute error even a perfect estimate would have, about
 * sqrt(2/pi) * sqrt(p (1 - p) / n) per window (normal approximation, p the estimate). Weather's
 * windows are 30 days (about 30 rows), so its floor is high; flights' are 10,000 rows.
 */
import { splitSnapshot } from '../../activities/data.ts';
import { cbpeArtifact, estimateLogged, type LoggedClassPrediction } from '../../core/estimation/champion-estimate.ts';
import type { Predictor } from '../../ml/bundle.ts';
import { flightsStream, trainPredictor, TRAIN_SEEDS, weatherStream, type StreamSetup } from '../drift-eval/setup.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The predictor's logged form of each row (predicted class and probability map), and whether it was right. */
function serve(predictor: Predictor, rows: Array<Record<string, unknown>>, labelColumn: string) {
  const p = predictor.probabilities(rows);
  const k = predictor.classes.length;
  return rows.map((row, i): LoggedClassPrediction & { right: boolean; confidence: number } => {
    const probabilities = Object.fromEntries(predictor.classes.map((c, j) => [c, p[i * k + j]]));
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    const label = predictor.classes[best];
    return { label, probabilities, right: label === String(row[labelColumn]), confidence: p[i * k + best] };
  });
}

async function oneSeed(setup: StreamSetup, seed: number) {
  const { spec } = setup;
  const labelColumn = spec.label.name;
  const window = setup.initial.slice(-setup.trainRows);
  const { train, holdout } = splitSnapshot(window, spec.training.holdoutFraction, spec.training.sweep.seed);
  const { predictor } = await trainPredictor(spec, train, seed);
  try {
    const artifact = cbpeArtifact(
      predictor.classes,
      predictor.probabilities(holdout),
      holdout.map((r) => String(r[labelColumn])),
    );
    const windows = setup.windows.map((w, i) => {
      const served = serve(predictor, w.rows, labelColumn);
      const estimate = estimateLogged(artifact, served).accuracy!;
      return {
        window: setup.windowLabels[i],
        segment: w.segment,
        rows: served.length,
        realised: served.filter((s) => s.right).length / served.length,
        cbpe: estimate,
        rawConfidence: mean(served.map((s) => s.confidence)),
      };
    });
    const mae = (pick: (w: (typeof windows)[number]) => number) => mean(windows.map((w) => Math.abs(pick(w) - w.realised)));
    return {
      seed,
      holdoutRows: artifact.holdout.rows,
      holdoutAccuracy: artifact.holdout.accuracy,
      meanAbsError: mae((w) => w.cbpe),
      rawConfidenceMeanAbsError: mae((w) => w.rawConfidence),
      holdoutAccuracyMeanAbsError: mae(() => artifact.holdout.accuracy),
      samplingNoise: mean(windows.map((w) => Math.sqrt(2 / Math.PI) * Math.sqrt((w.cbpe * (1 - w.cbpe)) / w.rows))),
      bySegment: Object.fromEntries(
        [...new Set(windows.map((w) => w.segment))].map((segment) => {
          const part = windows.filter((w) => w.segment === segment);
          return [segment, { windows: part.length, meanAbsError: mean(part.map((w) => Math.abs(w.cbpe - w.realised))) }];
        }),
      ),
      windows,
    };
  } finally {
    predictor.dispose();
  }
}

/** One stream over drift-eval's training seeds: means over seeds, per seed, and the first seed's windows. */
async function onStream(setup: StreamSetup) {
  const seeds: Array<Awaited<ReturnType<typeof oneSeed>>> = [];
  for (const seed of TRAIN_SEEDS) seeds.push(await oneSeed(setup, seed));
  const over = (pick: (s: (typeof seeds)[number]) => number) => mean(seeds.map(pick));
  return {
    about: setup.about,
    windows: setup.windows.length,
    meanRowsPerWindow: mean(setup.windows.map((w) => w.rows.length)),
    seeds: TRAIN_SEEDS,
    meanAbsError: over((s) => s.meanAbsError),
    rawConfidenceMeanAbsError: over((s) => s.rawConfidenceMeanAbsError),
    holdoutAccuracyMeanAbsError: over((s) => s.holdoutAccuracyMeanAbsError),
    samplingNoise: over((s) => s.samplingNoise),
    /** Weather: Seattle 2014 (the climate it learnt) and New York (another climate: the labels' relation to the inputs changes). */
    bySegmentMeanAbsError: Object.fromEntries(
      Object.keys(seeds[0].bySegment).map((segment) => [segment, over((s) => s.bySegment[segment].meanAbsError)]),
    ),
    bySeed: seeds.map(({ windows, ...figures }) => figures),
    perWindow: seeds[0].windows,
  };
}

export async function cbpeStreams() {
  const weather = await onStream(weatherStream());
  const flights = await onStream(flightsStream());
  return { weather, flights };
}
