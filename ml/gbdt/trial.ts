/**
 * Training of one gbdt trial by rungs, the gbdt counterpart of ml/train.ts trainTrial (which
 * calls it): an epoch is GBDT_ROUNDS_PER_EPOCH boosting rounds, a call boosts from fromEpoch to
 * toEpoch, and the checkpoint is the booster itself (trees, bins, random state), so 0 -> 9 in
 * one call and 0 -> 3, 3 -> 9 in two grow the same trees. The model a rung saves and reports is
 * the booster at its best round by validation loss so far (ml/gbdt/best-round.ts), while the
 * checkpoint keeps every tree for the next rung. Trees fit the label in its own units (no
 * scaling), so a regression trial's loss is the mean squared error in those units.
 */
import { GBDT_ROUNDS_PER_EPOCH } from '../../core/search-space.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import type { ReferenceProfile } from '../../core/profile.ts';
import { buildProfile, scoreProbabilities, scoreValues, decodeJson, PROFILE_JSON } from '../bundle.ts';
import { encodeJson, OPTIMIZER_BIN, OPTIMIZER_JSON } from '../bundle-format.ts';
import type { TrainerState } from '../checkpoint.ts';
import { fitPreprocessor, labelIndex, targetNumbers, type Preprocessor } from '../preprocess.ts';
import type { EpochMetrics, TrainInput, TrainResult } from '../train.ts';
import { finalValidation, medianLatency } from '../trial-measurements.ts';
import { BestRound } from './best-round.ts';
import { boost, startBooster, type BoosterState, type GbdtParams, type OnRound, type TrainingSet } from './booster.ts';
import { asBundleOutputs, gbdtMatrix, readBooster, readCheckpointBooster, saveGbdtFiles } from './model-files.ts';
import { applyLink } from './predict.ts';
import type { TreeEnsemble } from './tree.ts';

/** Where gbdt training runs: plain JavaScript over typed arrays, on the calling thread. */
export const GBDT_BACKEND = 'js';
const LATENCY_ROWS = 50;

export async function trainGbdtTrial(
  input: TrainInput,
  params: GbdtParams,
  preprocessorOf: (files: ModelFiles, what: string) => Preprocessor,
  onEpoch?: (metrics: EpochMetrics) => void,
): Promise<TrainResult> {
  const started = performance.now();
  const regression = input.labelType === 'number';
  let pre: Preprocessor;
  let profile: ReferenceProfile;
  let state: BoosterState | undefined;
  // The round the checkpoint's model predicts with, when resuming; a fresh or warm start picks among its new rounds.
  let bestRounds: number | undefined;
  if (input.checkpoint) {
    pre = preprocessorOf(input.checkpoint, 'The checkpoint');
    profile = decodeJson<ReferenceProfile>(input.checkpoint[PROFILE_JSON]);
    ({ state, bestRounds } = readCheckpointBooster(input.checkpoint));
  } else if (input.warmStart) {
    // Boosting on from the champion as it serves (truncated at its best round): its encoding and bins, new rows.
    pre = preprocessorOf(input.warmStart, 'The model to warm-start from');
    profile = buildProfile(input.train.rows, input.features, input.train.labels, { regression, image: input.image });
    state = { ...readBooster(input.warmStart), params, nRows: input.train.rows.length };
  } else {
    pre = fitPreprocessor(input.train.rows, input.features, regression ? { targets: input.train.labels } : input.classes, input.image);
    profile = buildProfile(input.train.rows, input.features, input.train.labels, { regression, image: input.image });
  }
  const train = trainingSet(pre, input.train.rows, input.train.labels, regression);
  const validation = trainingSet(pre, input.validation.rows, input.validation.labels, regression);
  state ??= startBooster(train, params, input.seed);

  // Every epoch reports the model as it would be saved: the booster at its best round so far.
  // One boost call for the whole rung: each call recomputes the training scores from every tree,
  // so a call per epoch made a 135-epoch trial quadratic in its trees (58 s of CPU instead of 6 s).
  const best = new BestRound(state, bestRounds, validation);
  const ensemble = state.ensemble;
  const history: EpochMetrics[] = [];
  let roundsThisCall = 0;
  const onRound: OnRound = (round, trees, scores) => {
    best.add(round, trees, scores);
    if (++roundsThisCall % GBDT_ROUNDS_PER_EPOCH !== 0) return;
    const fit = metrics(ensemble, pre, best.trainingScores(train), input.train.labels);
    const val = metrics(ensemble, pre, best.validationScores(), input.validation.labels);
    const epochMetrics: EpochMetrics = {
      epoch: input.fromEpoch + roundsThisCall / GBDT_ROUNDS_PER_EPOCH,
      loss: fit.loss,
      accuracy: fit.accuracy,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      ...(regression ? { valRmse: val.rmse, valMae: val.mae } : {}),
    };
    history.push(epochMetrics);
    onEpoch?.(epochMetrics);
  };
  state = boost(state, train, Math.max(0, input.toEpoch - input.fromEpoch) * GBDT_ROUNDS_PER_EPOCH, onRound);
  if (regression) profile = { ...profile, errorThreshold: errorQuantile(best.trainingScores(train), input.train.labels, 0.9) };
  const trainer: TrainerState = {
    version: 1,
    epoch: input.toEpoch,
    seed: input.seed,
    config: input.config,
    optimizer: { className: 'gbdt', iterations: state.rounds },
    weights: [],
  };
  const checkpoint: ModelFiles = {
    ...saveGbdtFiles(state, best.rounds, pre, profile),
    [OPTIMIZER_JSON]: encodeJson(trainer),
    [OPTIMIZER_BIN]: new Uint8Array(0),
  };
  const trainMs = performance.now() - started;
  const latencyRows = [...input.validation.rows, ...input.train.rows].slice(0, LATENCY_ROWS);
  return {
    checkpoint,
    history,
    ...finalValidation(history, regression),
    paramCount: state.ensemble.trees.flatMap((t) => t.slice(0, best.rounds)).reduce((sum, t) => sum + t.feature.length, 0),
    resolved: { family: 'gbdt', params },
    trainMs,
    // Typed arrays, not tensors: the booster's own bytes are the memory that matters.
    peakMemoryBytes: checkpoint['weights.bin'].byteLength + train.x.byteLength,
    predictLatencyMs: await medianLatency(checkpoint, latencyRows),
    predictBackend: GBDT_BACKEND,
    backend: GBDT_BACKEND,
  };
}

function trainingSet(pre: Preprocessor, rows: Record<string, unknown>[], labels: string[], regression: boolean): TrainingSet {
  return {
    x: gbdtMatrix(pre, rows),
    nRows: rows.length,
    nColumns: pre.nInputs,
    target: regression ? targetNumbers(labels) : Float64Array.from(labelIndex(pre, labels)),
    nClasses: regression ? 0 : pre.classes.length,
  };
}

/**
 * Loss, accuracy and errors of output-major raw scores of rows, through the link and the bundle's
 * convention that prediction uses (so the metrics are what the saved model predicts).
 */
function metrics(
  ensemble: TreeEnsemble,
  pre: Preprocessor,
  raw: Float64Array,
  labels: string[],
): { loss: number; accuracy: number; rmse?: number; mae?: number } {
  const n = labels.length;
  if (n === 0) return { loss: NaN, accuracy: NaN, ...(pre.target ? { rmse: NaN, mae: NaN } : {}) };
  const K = ensemble.nOutputs;
  const rowMajor = new Float64Array(n * K);
  for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) rowMajor[i * K + k] = raw[k * n + i];
  const out = asBundleOutputs(ensemble, applyLink(ensemble, rowMajor, n), n);
  if (!pre.target) {
    const { accuracy, logLoss } = scoreProbabilities(out, pre.classes, labels);
    return { loss: logLoss, accuracy };
  }
  const { rmse, mae } = scoreValues(out, labels);
  return { loss: rmse ** 2, accuracy: NaN, rmse, mae };
}

/** The q-quantile of a regression model's absolute errors on rows, from their raw scores. */
function errorQuantile(raw: Float64Array, labels: string[], q: number): number {
  const truth = targetNumbers(labels);
  const errors = Float64Array.from(raw, (p, i) => Math.abs(truth[i] - p)).sort();
  return errors[Math.min(errors.length - 1, Math.floor(q * errors.length))];
}
