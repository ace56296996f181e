/**
 * Detection delay and false alarms of the concept-drift detectors (core/drift/detectors.ts, river's
 * ADWIN, DDM and Page-Hinkley with river's defaults) on seeded synthetic streams with known change
 * points (core/drift/streams.ts), for bench/drift-eval/index.ts.
 *
 * Per stream and seed: a softmax regression (bench/drift-eval/setup.ts CONFIG, trainTrial on the
 * wasm backend, seeded by the stream's seed) learns the first TRAIN_ROWS rows of the first concept
 * and is then frozen; its error stream over the whole stream (1 = wrong; the first TRAIN_ROWS are
 * in-sample, which for a linear model on thousands of rows barely lowers their error) feeds each
 * detector from a fresh state; detectionReport scores the alarms against the change points (an
 * alarm detects the latest change point until the next one; later alarms are false).
 *
 * - sea: SEA concepts, abrupt: thresholds 8, 9, 7, 9.5 switching every CHANGE_EVERY rows, 10% label noise.
 * - hyperplane: rotating hyperplane, gradual: 10 features, two weights drifting during the first
 *   half of each CHANGE_EVERY rows after a change point, 5% label noise (the generator's defaults).
 * - the same two with no change (one concept throughout): every alarm is false.
 *
 * A frozen model sees a change only as far as it moves its error rate, so the report also gives
 * the error rate per concept. With the model's boundary near theta = 8, SEA's concepts make a band
 * of 0%, 8.5%, 7.5% and 13% of the inputs wrong (then 10% noise on top): the second change
 * (theta 9 -> 7) LOWERS the error rate a little, which DDM (it watches for increases only) cannot
 * signal; ADWIN and Page-Hinkley (mode 'both') can.
 */
import { createDetector, updateMany, type DetectorKind } from '../../core/drift/detectors.ts';
import { detectionReport, hyperplaneStream, seaStream, type LabelledStream } from '../../core/drift/streams.ts';
import { ModelSpec } from '../../core/spec.ts';
import { trainPredictor } from './setup.ts';
import { median } from '../../core/stats/quantiles.ts';

export const DETECTOR_SEEDS = [1, 2, 3, 4, 5];
export const STREAM_LENGTH = 40_000;
export const CHANGE_EVERY = 10_000;
export const SEA_NOISE = 0.1;
export const TRAIN_ROWS = 2_000;

const DETECTORS: Array<{ name: string; kind: DetectorKind }> = [
  { name: 'ADWIN', kind: 'adwin' },
  { name: 'DDM', kind: 'ddm' },
  { name: 'Page-Hinkley', kind: 'pageHinkley' },
];

const STREAMS: Array<{ name: string; kind: string; make: (seed: number) => LabelledStream }> = [
  { name: 'sea', kind: 'abrupt', make: (seed) => seaStream({ seed, length: STREAM_LENGTH, changeEvery: CHANGE_EVERY, noise: SEA_NOISE }) },
  { name: 'hyperplane', kind: 'gradual', make: (seed) => hyperplaneStream({ seed, length: STREAM_LENGTH, changeEvery: CHANGE_EVERY }) },
  {
    name: 'sea-no-change',
    kind: 'control',
    make: (seed) => seaStream({ seed, length: STREAM_LENGTH, changeEvery: STREAM_LENGTH, noise: SEA_NOISE }),
  },
  {
    name: 'hyperplane-no-change',
    kind: 'control',
    make: (seed) => hyperplaneStream({ seed, length: STREAM_LENGTH, changeEvery: STREAM_LENGTH }),
  },
];

export interface DetectorScore {
  stream: string;
  kind: string;
  detector: string;
  changePoints: number[];
  /** Change points x seeds, and how many of them an alarm detected. */
  changes: number;
  detected: number;
  missed: number;
  /** Over all detected changes, in rows after the change point (null when none was detected). */
  meanDelay: number | null;
  medianDelay: number | null;
  /** Per change point: delays over the seeds (null = missed). */
  delaysByChange: Array<{ at: number; delays: Array<number | null>; meanDelay: number | null; detected: number }>;
  falseAlarms: number;
  falseAlarmsPer10k: number;
}

export interface DetectorEvaluation {
  seeds: number[];
  length: number;
  changeEvery: number;
  trainRows: number;
  /** Per stream: the frozen model's error rate in each concept (between change points), mean over seeds. */
  errorRates: Record<string, number[]>;
  scores: DetectorScore[];
  seconds: number;
}

export async function detectorEvaluation(log: (line: string) => void = () => {}): Promise<DetectorEvaluation> {
  const started = performance.now();
  const scores: DetectorScore[] = [];
  const errorRates: Record<string, number[]> = {};
  for (const stream of STREAMS) {
    const runs: Array<{ errors: number[]; changePoints: number[] }> = [];
    for (const seed of DETECTOR_SEEDS) runs.push(await frozenErrors(stream.make(seed), seed));
    errorRates[stream.name] = meanColumns(runs.map((r) => conceptErrorRates(r.errors, r.changePoints)));
    log(`  ${stream.name}: error rate per concept ${errorRates[stream.name].map((e) => e.toFixed(3)).join(', ')}`);
    for (const detector of DETECTORS) scores.push(scoreDetector(stream, detector, runs));
  }
  return {
    seeds: DETECTOR_SEEDS,
    length: STREAM_LENGTH,
    changeEvery: CHANGE_EVERY,
    trainRows: TRAIN_ROWS,
    errorRates,
    scores,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The error stream of a model trained on the first TRAIN_ROWS rows and frozen. */
async function frozenErrors(stream: LabelledStream, seed: number): Promise<{ errors: number[]; changePoints: number[] }> {
  const d = stream.rows[0].length;
  const spec = ModelSpec.parse({
    name: 'detector-eval',
    features: Array.from({ length: d }, (_, j) => ({ name: `x${j}`, type: 'number' })),
    label: { name: 'y', classes: ['0', '1'] },
  });
  const rows = stream.rows.map((r, i) => ({ ...Object.fromEntries(r.map((v, j) => [`x${j}`, v])), y: String(stream.labels[i]) }));
  const { predictor } = await trainPredictor(spec, rows.slice(0, TRAIN_ROWS), seed);
  try {
    const p = predictor.probabilities(rows);
    const k = predictor.classes.length;
    const errors = rows.map((r, i) => {
      const best = p[i * k + 1] > p[i * k] ? 1 : 0;
      return predictor.classes[best] === r.y ? 0 : 1;
    });
    return { errors, changePoints: stream.changePoints };
  } finally {
    predictor.dispose();
  }
}

function scoreDetector(
  stream: (typeof STREAMS)[number],
  detector: (typeof DETECTORS)[number],
  runs: Array<{ errors: number[]; changePoints: number[] }>,
): DetectorScore {
  const reports = runs.map((r) =>
    detectionReport(updateMany(createDetector(detector.kind), r.errors).alarms, r.changePoints, r.errors.length),
  );
  const changePoints = runs[0].changePoints;
  const all = reports.flatMap((r) => r.delays).filter((d): d is number => d !== null);
  const falseAlarms = reports.reduce((a, r) => a + r.falseAlarms, 0);
  const rows = runs.reduce((a, r) => a + r.errors.length, 0);
  return {
    stream: stream.name,
    kind: stream.kind,
    detector: detector.name,
    changePoints,
    changes: changePoints.length * runs.length,
    detected: all.length,
    missed: reports.reduce((a, r) => a + r.missed, 0),
    meanDelay: mean(all),
    medianDelay: all.length ? median(all) : null,
    delaysByChange: changePoints.map((at, k) => {
      const delays = reports.map((r) => r.delays[k]);
      const found = delays.filter((d): d is number => d !== null);
      return { at, delays, meanDelay: mean(found), detected: found.length };
    }),
    falseAlarms,
    falseAlarmsPer10k: (falseAlarms / rows) * 10_000,
  };
}

/** Error rate between consecutive change points: [0, c1), [c1, c2), ..., [c_last, end). */
export function conceptErrorRates(errors: readonly number[], changePoints: readonly number[]): number[] {
  const bounds = [0, ...changePoints, errors.length];
  return bounds.slice(0, -1).map((start, k) => mean(errors.slice(start, bounds[k + 1]) as number[]) ?? NaN);
}

function meanColumns(rows: number[][]): number[] {
  return rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
