/**
 * Training of one trial configuration, by rungs: a call trains epochs fromEpoch+1 .. toEpoch,
 * starting from a fresh model (fromEpoch 0) or from the checkpoint an earlier call returned, and
 * returns a new checkpoint. Resuming is exact: the checkpoint carries the weights and the
 * optimiser state (ml/checkpoint.ts), and every source of randomness is a function of
 * (seed, epoch[, step]) — the per-epoch shuffle and the dropout masks — so training 0 -> 9 in one
 * call and 0 -> 3, 3 -> 9 in two gives the same model.
 *
 * Activities call `trainInThread` (ml/training-threads.ts), which runs `trainTrial` in a warm worker
 * thread; tests and benchmarks also call `trainTrial` on their own thread.
 *
 * Over 400 lines on purpose: the epoch loop, its randomness and the tensors' lifetimes are what
 * make resuming exact, and they read best in one place; what a trial measures besides training
 * is in ml/trial-measurements.ts.
 */
import type { ModelConfig } from '../core/search-space.ts';
import { mulberry32 } from '../core/stats/rng.ts';
import { loadTf, type LoadedTf, type Tf } from './backend.ts';
import {
  buildProfile,
  scoreValues,
  unscale,
  decodeJson,
  MODEL_JSON,
  PREPROCESS_JSON,
  PROFILE_JSON,
  saveModelFiles,
  scoreProbabilities,
  WEIGHTS_BIN,
} from './bundle.ts';
import { installFastCpuKernels } from './kernels.ts';
import { readTrainerState, restoreOptimizerState, saveOptimizerState } from './checkpoint.ts';
import { buildModel, mixSeed, REGRESSION, resolveConfig, type ResolvedConfig } from './model.ts';
import {
  fitPreprocessor,
  labelIndex,
  modelInput,
  scaledTargets,
  targetNumbers,
  toMatrix,
  upgradePreprocessor,
  type FeatureInput,
  type ImageShape,
  type Preprocessor,
} from './preprocess.ts';
import type { ModelFiles } from '../core/contracts.ts';
import type { ReferenceProfile } from '../core/profile.ts';
import { finalValidation, measurePredictLatency, watchPeakBytes } from './trial-measurements.ts';
import { trainGbdtTrial } from './gbdt/trial.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Scalar = import('@tensorflow/tfjs').Scalar;
type Variable = import('@tensorflow/tfjs').Variable;
type LayersModel = import('@tensorflow/tfjs').LayersModel;
type ModelJSON = import('@tensorflow/tfjs').io.ModelJSON;

export interface LabelledRows {
  rows: Record<string, unknown>[];
  labels: string[];
}

export interface TrainInput {
  config: ModelConfig;
  /** The spec's features (core/spec.ts FeatureSpec); a bare name is a numeric feature. */
  features: FeatureInput[];
  /** The spec's image shape, when the numeric features are the pixels of an image. */
  image?: ImageShape;
  /** A classifier's classes (the spec's); [] for a regression model. */
  classes: string[];
  /** 'number': a regression model, whose labels are numbers (as text, like every label). Default 'category'. */
  labelType?: 'category' | 'number';
  train: LabelledRows;
  validation: LabelledRows;
  /** Seeds the initial weights, the per-epoch shuffles and the dropout masks. */
  seed: number;
  /** Epochs already trained: 0 for a fresh model, else the checkpoint's epoch. */
  fromEpoch: number;
  /** Train through this epoch (> fromEpoch). */
  toEpoch: number;
  /** The checkpoint of an earlier call (its TrainResult.checkpoint) when fromEpoch > 0. */
  checkpoint?: ModelFiles;
  /**
   * A warm start (fromEpoch 0 only): the model files (ml/bundle.ts) of a model of this config's
   * architecture, whose preprocessing and weights training continues from. The optimiser starts
   * fresh with this config's settings; the reference profile is rebuilt from the training rows.
   */
  warmStart?: ModelFiles;
  /**
   * 'auto' (default) | 'tensorflow' | 'wasm' | 'cpu' (ml/backend.ts). With 'auto', cnn trains on
   * tfjs-node when it loads and otherwise on 'cpu' (wasm has no Conv2D gradient kernels); softmax
   * and mlp use loadTf('auto'): tfjs-node, else wasm, else cpu. 'wasm' for a cnn is an error.
   */
  backend?: string;
}

export interface EpochMetrics {
  /** 1-based, counted from the fresh model (a resumed call continues the numbering). */
  epoch: number;
  /**
   * Training loss averaged over the epoch's rows, as each batch saw it (includes the L2 penalty
   * when l2 > 0); a regression model's is the mean squared error of the scaled label.
   */
  loss: number;
  /** Training accuracy over the epoch's rows, as each batch saw it (dropout active); NaN for regression. */
  accuracy: number;
  /**
   * On the validation rows after the epoch (no L2 term), NaN without validation rows: cross-entropy;
   * a regression model's mean squared error in the label's units.
   */
  valLoss: number;
  /** NaN for regression. */
  valAccuracy: number;
  /** A regression model's validation root mean squared error and mean absolute error, in the label's units. */
  valRmse?: number;
  valMae?: number;
}

/** Within-epoch progress, reported at most every progressIntervalMs (for heartbeats in long epochs). */
export interface BatchProgress {
  epoch: number;
  /** Batches done in this epoch, of `batches`. */
  batch: number;
  batches: number;
}

export interface TrainResult {
  /**
   * The model after toEpoch: model.json, weights.bin, preprocess.json, profile.json (ml/bundle.ts;
   * loadPredictor reads it directly) plus optimizer.json and optimizer.bin (ml/checkpoint.ts) to
   * resume from. Uint8Array values survive postMessage. `servingFiles(checkpoint)` gives the
   * four model files alone.
   */
  checkpoint: ModelFiles;
  /** Only the epochs trained in this call (fromEpoch+1 .. toEpoch). */
  history: EpochMetrics[];
  /** Validation metrics of the model at toEpoch (NaN without validation rows). */
  valAccuracy: number;
  valLogLoss: number;
  /** A regression model's validation RMSE and MAE (see EpochMetrics). */
  valRmse?: number;
  valMae?: number;
  paramCount: number;
  /** The configuration with every default filled in (ml/model.ts resolveConfig). */
  resolved: ResolvedConfig;
  /**
   * Wall time of this call's preprocessing, model building or checkpoint loading, training and
   * saving; not of loading TensorFlow.js nor of the latency measurement.
   */
  trainMs: number;
  /**
   * Peak of tf.memory().numBytes (bytes of all live tensors of this thread's tfjs engine:
   * weights, optimiser slots, batches, activations and gradients) during the same span as
   * trainMs, observed at every tensor allocation. Not the JS heap nor the wasm heap's size. In a
   * worker (trainInThread) only this trial's tensors are live; same-thread, it includes whatever
   * else the caller keeps alive.
   */
  peakMemoryBytes: number;
  /**
   * Median wall time of predicting ONE row, over up to 50 rows (validation rows first, then
   * training rows), each a separate call of the serving path: loadPredictor(checkpoint) on
   * loadTf('auto') (what the model server uses) and predictor.probabilities([row]), including the
   * row encoding and the read-back; after 5 warm-up calls.
   */
  predictLatencyMs: number;
  /** The backend the latency was measured on ('wasm' here, also for a cnn trained on 'cpu'). */
  predictBackend: string;
  /** The backend training ran on: 'tensorflow' | 'wasm' | 'cpu'. */
  backend: string;
}

/** Rows per predict batch for the validation metrics. */
const EVAL_BATCH = 8192;
/** Default minimum interval between BatchProgress reports. */
export const PROGRESS_INTERVAL_MS = 1000;
const LATENCY_ROWS = 50;

/**
 * The backend a family trains on for a preference (see TrainInput.backend). A cnn never trains on
 * wasm: with 'auto' it falls back to cpu, an explicit 'wasm' throws.
 */
export async function loadTrainingTf(family: ModelConfig['family'], preference?: string): Promise<LoadedTf> {
  if (family !== 'cnn') return loadTf(preference);
  if (preference === 'wasm') {
    throw new Error(
      'The cnn family cannot train on the wasm backend (it has no Conv2D gradient kernels); use "cpu", "tensorflow" or "auto"',
    );
  }
  const loaded = await loadTf(preference);
  return loaded.backend === 'wasm' ? loadTf('cpu') : loaded;
}

/**
 * Trains one rung of a trial on this thread. Deterministic for a given input and backend: seeded
 * initialisers, per-epoch shuffles seeded by (seed, epoch), dropout masks seeded by
 * (seed, epoch, batch, layer) (tfjs's own shuffle and unseeded dropout use Math.random).
 * `options.tf` uses that TensorFlow.js as it is (its current backend) instead of loadTrainingTf.
 */
export async function trainTrial(
  input: TrainInput,
  onEpoch?: (metrics: EpochMetrics) => void,
  options: { tf?: Tf; onProgress?: (progress: BatchProgress) => void; progressIntervalMs?: number } = {},
): Promise<TrainResult> {
  const resolved = checkInput(input);
  if (resolved.family === 'gbdt') {
    return trainGbdtTrial(input, resolved.params, (files, what) => preprocessorOf(files, input, what), onEpoch);
  }
  const regression = input.labelType === 'number';
  const loaded = options.tf
    ? { tf: options.tf, backend: options.tf.getBackend() }
    : await loadTrainingTf(input.config.family, input.backend);
  const { tf, backend } = loaded;
  if (resolved.family === 'cnn' && backend === 'wasm') {
    throw new Error('The cnn family cannot train on the wasm backend (it has no Conv2D gradient kernels)');
  }
  if (backend === 'cpu') installFastCpuKernels(tf); // conv/pool gradients (ml/kernels.ts)
  const peak = watchPeakBytes(tf);
  const started = performance.now();
  let model: LayersModel | undefined;
  let xValTensor: Tensor | undefined;
  let checkpoint: ModelFiles;
  let history: EpochMetrics[];
  let paramCount: number;
  try {
    // Preprocessing: fitted on a fresh start, the checkpoint's own on resume (identical encoding).
    let pre: Preprocessor;
    let profile: ReferenceProfile;
    if (input.checkpoint) {
      pre = preprocessorOf(input.checkpoint, input, 'The checkpoint');
      profile = decodeJson<ReferenceProfile>(input.checkpoint[PROFILE_JSON]);
    } else if (input.warmStart) {
      // The weights only mean something on the encoding they were trained with: keep it.
      pre = preprocessorOf(input.warmStart, input, 'The model to warm-start from');
      profile = buildProfile(input.train.rows, input.features, input.train.labels, { regression, image: input.image });
    } else {
      pre = fitPreprocessor(input.train.rows, input.features, regression ? { targets: input.train.labels } : input.classes, input.image);
      profile = buildProfile(input.train.rows, input.features, input.train.labels, { regression, image: input.image });
    }
    const d = pre.nInputs;
    // Outputs per row: one per class, or the one scaled number of a regression model.
    const k = regression ? 1 : pre.classes.length;
    const n = input.train.rows.length;
    const xTrain = toMatrix(pre, input.train.rows);
    const yTrain = regression ? scaledTargets(pre, input.train.labels) : labelIndex(pre, input.train.labels);
    const nVal = input.validation.rows.length;
    const xVal = toMatrix(pre, input.validation.rows);
    if (regression) scaledTargets(pre, input.validation.labels);
    else labelIndex(pre, input.validation.labels); // unknown validation labels fail early too

    model = buildModel(tf, input.config, modelInput(pre), regression ? REGRESSION : k, input.seed);
    const optimizer = model.optimizer;
    if (input.checkpoint) {
      await copyWeights(tf, model, input.checkpoint);
      await restoreOptimizerState(tf, model.optimizer, input.checkpoint);
    } else if (input.warmStart) {
      await copyWeights(tf, model, input.warmStart);
    }
    const variables = model.trainableWeights.map((w) => w.read() as Variable);
    const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as Array<{ seed?: number }>;
    const dropoutSeeds = dropouts.map((l) => l.seed);
    const batchSize = Math.max(1, Math.min(resolved.params.batchSize, n));
    const batches = Math.ceil(n / batchSize);
    history = [];
    const xs = new Float32Array(n * d);
    const ys = new Float32Array(n * k); // one-hot, or the scaled label
    const order = new Int32Array(n);
    if (nVal > 0) xValTensor = tf.tensor2d(xVal, [nVal, d]);
    let lastProgress = performance.now();
    for (let epoch = input.fromEpoch + 1; epoch <= input.toEpoch; epoch++) {
      // The epoch's permutation depends on (seed, epoch) only, not on earlier epochs.
      for (let i = 0; i < n; i++) order[i] = i;
      shuffleInPlace(order, mulberry32(mixSeed(input.seed, epoch, 0x5eed)));
      ys.fill(0);
      for (let i = 0; i < n; i++) {
        const src = order[i];
        xs.set(xTrain.subarray(src * d, src * d + d), i * d);
        if (regression) ys[i] = yTrain[src];
        else ys[i * k + yTrain[src]] = 1;
      }
      // One optimiser step per batch; batch sums of loss and hits stay on the backend until the
      // end of the epoch, so there is a single read per epoch.
      const sums: Tensor[] = [];
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const size = Math.min(batchSize, n - start);
        dropouts.forEach((layer, j) => (layer.seed = mixSeed(input.seed, epoch, b, j)));
        tf.tidy(() => {
          const xb = tf.tensor2d(xs.subarray(start * d, (start + size) * d), [size, d]);
          const yb = tf.tensor2d(ys.subarray(start * k, (start + size) * k), [size, k]);
          let stats: Tensor | undefined;
          // The same objective as LayersModel.fit: mean categorical cross-entropy (regression:
          // mean squared error) plus the layers' regularisation penalties, minimised by the
          // compiled optimiser.
          optimizer.minimize(
            () => {
              const out = model!.apply(xb, { training: true }) as Tensor;
              let loss = (
                regression ? tf.losses.meanSquaredError(yb, out) : tf.mean(tf.metrics.categoricalCrossentropy(yb, out))
              ) as Scalar;
              for (const penalty of model!.calculateLosses()) loss = tf.add(loss, penalty);
              const hits = regression ? tf.scalar(NaN) : tf.sum(tf.metrics.categoricalAccuracy(yb, out));
              stats = tf.keep(tf.stack([tf.mul(loss, size), hits]));
              return loss;
            },
            false,
            variables,
          );
          sums.push(stats!);
        });
        if (options.onProgress && performance.now() - lastProgress >= (options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)) {
          lastProgress = performance.now();
          options.onProgress({ epoch, batch: b + 1, batches });
        }
      }
      const totals = tf.tidy(() => tf.addN(sums));
      const [lossSum, hitSum] = totals.dataSync();
      totals.dispose();
      tf.dispose(sums);
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / n,
        accuracy: hitSum / n,
        ...validationMetrics(tf, model, xValTensor, pre, input.validation.labels),
      };
      history.push(metrics);
      onEpoch?.(metrics);
    }
    // The saved topology carries the build-time dropout seeds, not the last step's.
    dropouts.forEach((layer, j) => (layer.seed = dropoutSeeds[j]));
    if (regression) profile = { ...profile, errorThreshold: errorThreshold(tf, model, xTrain, n, d, pre, input.train.labels) };
    checkpoint = {
      ...(await saveModelFiles(tf, model, pre, profile)),
      ...(await saveOptimizerState(tf, optimizer, { epoch: input.toEpoch, seed: input.seed, config: input.config })),
    };
    paramCount = model.countParams();
  } finally {
    xValTensor?.dispose();
    model?.optimizer?.dispose();
    model?.dispose();
    peak.stop();
  }
  const trainMs = performance.now() - started;
  const latencyRows = [...input.validation.rows.slice(0, LATENCY_ROWS), ...input.train.rows.slice(0, LATENCY_ROWS)].slice(0, LATENCY_ROWS);
  const latency = await measurePredictLatency(checkpoint, latencyRows, options.tf);
  return {
    checkpoint,
    history,
    ...finalValidation(history, regression),
    paramCount,
    resolved,
    trainMs,
    peakMemoryBytes: peak.peak(),
    predictLatencyMs: latency.ms,
    predictBackend: latency.backend,
    backend,
  };
}

/**
 * The preprocessor of saved model files, checked to encode the input's features, classes and
 * label type (a warm start whose spec changed since the champion was trained fails here).
 */
export function preprocessorOf(
  files: ModelFiles,
  input: Pick<TrainInput, 'features' | 'classes' | 'labelType'>,
  what: string,
): Preprocessor {
  const pre = upgradePreprocessor(decodeJson<unknown>(files[PREPROCESS_JSON]));
  const names = input.features.map((f) => (typeof f === 'string' ? f : f.name));
  if (
    pre.features.join('\u0000') !== names.join('\u0000') ||
    pre.classes.join('\u0000') !== input.classes.join('\u0000') ||
    !pre.target !== !(input.labelType === 'number')
  ) {
    throw new Error(`${what} was trained on other features or classes than this input`);
  }
  return pre;
}

/** Copies the weights of saved model files into `model` (same architecture). */
async function copyWeights(tf: Tf, model: LayersModel, files: ModelFiles): Promise<void> {
  for (const name of [MODEL_JSON, WEIGHTS_BIN]) {
    if (!(files[name] instanceof Uint8Array)) throw new Error(`The model files lack ${name}`);
  }
  const modelJson = decodeJson<ModelJSON>(files[MODEL_JSON]);
  const bin = files[WEIGHTS_BIN];
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const saved = await tf.loadLayersModel(tf.io.fromMemory(tf.io.getModelArtifactsForJSONSync(modelJson, weightSpecs, weightData)));
  try {
    // Same builder, same layer order: positional copy (layer names differ between builds).
    // setWeights checks the count and every shape.
    model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
}

/** The epoch's validation metrics (NaN without validation rows): see EpochMetrics. */
function validationMetrics(
  tf: Tf,
  model: LayersModel,
  x: Tensor | undefined,
  pre: Preprocessor,
  labels: string[],
): Pick<EpochMetrics, 'valLoss' | 'valAccuracy' | 'valRmse' | 'valMae'> {
  if (!x) return pre.target ? { valLoss: NaN, valAccuracy: NaN, valRmse: NaN, valMae: NaN } : { valLoss: NaN, valAccuracy: NaN };
  const out = tf.tidy(() => model.predict(x, { batchSize: EVAL_BATCH }) as Tensor);
  try {
    if (!pre.target) {
      const { accuracy, logLoss } = scoreProbabilities(out.dataSync(), pre.classes, labels);
      return { valLoss: logLoss, valAccuracy: accuracy };
    }
    const { rmse, mae } = scoreValues(unscale(pre, out.dataSync()), labels);
    return { valLoss: rmse ** 2, valAccuracy: NaN, valRmse: rmse, valMae: mae };
  } finally {
    out.dispose();
  }
}

/** The 90th percentile of |label - prediction| on the training rows (ReferenceProfile.errorThreshold). */
function errorThreshold(tf: Tf, model: LayersModel, x: Float32Array, n: number, d: number, pre: Preprocessor, labels: string[]): number {
  const out = tf.tidy(() => model.predict(tf.tensor2d(x, [n, d]), { batchSize: EVAL_BATCH }) as Tensor);
  try {
    const predicted = unscale(pre, out.dataSync());
    const truth = targetNumbers(labels);
    const errors = Float64Array.from(predicted, (p, i) => Math.abs(truth[i] - p)).sort();
    return errors[Math.min(errors.length - 1, Math.floor(0.9 * errors.length))];
  } finally {
    out.dispose();
  }
}

function checkInput(input: TrainInput): ResolvedConfig {
  const { train, validation, fromEpoch, toEpoch, checkpoint } = input;
  const resolved = resolveConfig(input.config);
  if (!Number.isInteger(input.seed)) throw new Error(`trainTrial: seed must be an integer, got ${input.seed}`);
  if (!Number.isInteger(fromEpoch) || fromEpoch < 0 || !Number.isInteger(toEpoch) || toEpoch <= fromEpoch) {
    throw new Error(`trainTrial: need integers 0 <= fromEpoch < toEpoch, got ${fromEpoch} -> ${toEpoch}`);
  }
  if (input.warmStart && (checkpoint || fromEpoch !== 0)) {
    throw new Error('trainTrial: a warm start begins at epoch 0; later rungs resume from their own checkpoint');
  }
  if (!checkpoint && fromEpoch !== 0) throw new Error(`trainTrial: fromEpoch is ${fromEpoch} but there is no checkpoint to resume from`);
  if (checkpoint) {
    const state = readTrainerState(checkpoint);
    if (state.epoch !== fromEpoch) throw new Error(`trainTrial: the checkpoint is at epoch ${state.epoch}, not fromEpoch ${fromEpoch}`);
    if (state.seed !== input.seed) throw new Error(`trainTrial: the checkpoint was trained with seed ${state.seed}, not ${input.seed}`);
    if (JSON.stringify(resolveConfig(state.config)) !== JSON.stringify(resolved)) {
      throw new Error(`trainTrial: the checkpoint was trained with another configuration (${JSON.stringify(state.config)})`);
    }
  }
  if (train.rows.length === 0) throw new Error('trainTrial: no training rows');
  if (train.rows.length !== train.labels.length) {
    throw new Error(`trainTrial: ${train.rows.length} training rows but ${train.labels.length} labels`);
  }
  if (validation.rows.length !== validation.labels.length) {
    throw new Error(`trainTrial: ${validation.rows.length} validation rows but ${validation.labels.length} labels`);
  }
  return resolved;
}

function shuffleInPlace(a: Int32Array, rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
