/**
 * The saved-model format shared by training, evaluation and the model server.
 *
 * A model is four files, held in memory as `ModelFiles` (and uploaded as-is as MLflow artifacts):
 * - model.json      tfjs LayersModel JSON: modelTopology + weightsManifest -> "weights.bin"
 *                   (the standard format: tf.loadLayersModel('file://.../model.json') reads it);
 * - weights.bin     the float32 weights, in weightsManifest order;
 * - preprocess.json the Preprocessor (ml/preprocess.ts: feature encodings, class order; version 1
 *                   files of numeric-only models still load);
 * - profile.json    the ReferenceProfile of the training data, for drift tests.
 *
 * A training checkpoint (ml/train.ts TrainResult.checkpoint) is these four files plus the
 * optimiser state, optimizer.json and optimizer.bin (ml/checkpoint.ts). loadPredictor ignores
 * every file but the four; `servingFiles` drops the rest.
 */
import { sampleSorted } from '../core/stats/quantiles.ts';
import { parseNumeric } from '../core/validation.ts';
import { loadTf, type Tf } from './backend.ts';
import { regressionReport } from '../core/metrics/regression.ts';
import {
  asFeatureSpec,
  categoryKey,
  targetNumbers,
  toMatrix,
  upgradePreprocessor,
  type FeatureInput,
  type ImageShape,
  type Preprocessor,
} from './preprocess.ts';
import type { ModelFiles } from '../core/contracts.ts';
import type { FeatureProfile, ImageProfile, ReferenceProfile } from '../core/profile.ts';
import { imageProfile, pixelNames } from '../core/drift/image.ts';
import { decodeJson, encodeJson, MODEL_FILE_NAMES, MODEL_JSON, PREPROCESS_JSON, PROFILE_JSON, WEIGHTS_BIN } from './bundle-format.ts';
import { gbdtMatrix, gbdtOutputs, isGbdtModel, readBooster } from './gbdt/model-files.ts';
import type { TreeEnsemble } from './gbdt/tree.ts';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type ModelArtifacts = import('@tensorflow/tfjs').io.ModelArtifacts;
type ModelJSON = import('@tensorflow/tfjs').io.ModelJSON;
type Tensor = import('@tensorflow/tfjs').Tensor;

export {
  MODEL_JSON,
  WEIGHTS_BIN,
  PREPROCESS_JSON,
  PROFILE_JSON,
  MODEL_FILE_NAMES,
  OPTIMIZER_JSON,
  OPTIMIZER_BIN,
  CHECKPOINT_FILE_NAMES,
  encodeJson,
  decodeJson,
} from './bundle-format.ts';

/** Values kept per feature in the reference profile (evenly spaced quantiles when there are more). */
export const PROFILE_SAMPLE_SIZE = 1000;
/** Rows per predict batch: large, as each batch slice copies the input on wasm. */
const PREDICT_BATCH = 8192;
/** Probabilities are clipped to [LOG_LOSS_EPS, 1] in the log loss. */
export const LOG_LOSS_EPS = 1e-15;

export interface Prediction {
  /** The predicted class; for a regression model, the predicted number as text. */
  label: string;
  /** Class probabilities; {} for a regression model. */
  probabilities: Record<string, number>;
  /** A regression model's predicted number. */
  value?: number;
  /** Inputs the model could not use as given (a number feature sent as text), treated as missing. */
  warnings?: string[];
}

export interface Predictor {
  task: 'classification' | 'regression';
  /** The classes in the model's output order; [] for a regression model. */
  classes: string[];
  features: string[];
  profile: ReferenceProfile;
  preprocessor: Preprocessor;
  predict(rows: ReadonlyArray<Record<string, unknown>>): Prediction[];
  /** Row-major [rows x classes] probabilities, in `classes` order; a regression model's predicted numbers, one per row. */
  probabilities(rows: ReadonlyArray<Record<string, unknown>>): Float32Array;
  dispose(): void;
  /**
   * A gbdt model's ensemble, over the columns of gbdtMatrix(preprocessor, rows) (ml/gbdt/model-files.ts):
   * explanations use exact Tree SHAP when it is present, sampled Shapley values otherwise
   * (ml/explain/explain.ts).
   */
  ensemble?: TreeEnsemble;
}

export interface Evaluation {
  /** NaN for a regression model. */
  accuracy: number;
  n: number;
  /** Mean of -ln(p(true class)), p clipped to [1e-15, 1]; NaN for a regression model. */
  logLoss: number;
  /** A regression model's mean absolute error, root mean squared error and R^2 (sklearn's definitions). */
  mae?: number;
  rmse?: number;
  r2?: number;
}

/**
 * Reference profile of the training rows: per-feature summary and sorted sample (category
 * features: value counts, empty sample), label counts. A feature given by name is numeric. A
 * regression model's labels are profiled as a numeric feature (`target`) instead of counted.
 * With `image` (the spec's shape) the pixels are profiled as images (core/drift/image.ts) and
 * keep no sample each: a few thousand numbers instead of up to a thousand per pixel. Their range
 * is the image's intensity range, as ink where training had none is a shift of the image (the
 * drift tests' business), not an anomalous value.
 */
export function buildProfile(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: ReadonlyArray<FeatureInput>,
  labels: readonly string[],
  options: { regression?: boolean; maxSample?: number; image?: ImageShape } = {},
): ReferenceProfile {
  const maxSample = options.maxSample ?? PROFILE_SAMPLE_SIZE;
  const out: Record<string, FeatureProfile> = {};
  for (const feature of features) {
    const f = typeof feature === 'string' ? feature : feature.name;
    if (typeof feature !== 'string' && feature.type === 'category') {
      const counts: Record<string, number> = {};
      let n = 0;
      for (const row of rows) {
        const key = categoryKey(row[f]);
        if (key === undefined) continue;
        n++;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      out[f] = { kind: 'category', n, missing: rows.length - n, counts, mean: 0, std: 0, min: 0, max: 0, sample: [] };
      continue;
    }
    out[f] = numericProfile(
      rows.map((row) => row[f]),
      maxSample,
    );
  }
  const image = options.image && imageOfPixels(rows, features, options.image, out);
  if (options.regression)
    return { version: 1, rows: rows.length, features: out, classCounts: {}, target: numericProfile(labels, maxSample), ...image };
  const classCounts: Record<string, number> = {};
  for (const l of labels) classCounts[l] = (classCounts[l] ?? 0) + 1;
  return { version: 1, rows: rows.length, features: out, classCounts, ...image };
}

/** The image profile of the pixels, which lose their samples and take the image's range. */
function imageOfPixels(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: ReadonlyArray<FeatureInput>,
  shape: ImageShape,
  profiles: Record<string, FeatureProfile>,
): { image: ImageProfile } {
  const pixels = pixelNames(features.map(asFeatureSpec), shape);
  const image = imageProfile(rows, pixels, shape);
  const { edges } = image.intensity;
  for (const p of pixels) profiles[p] = { ...profiles[p], min: edges[0], max: edges[edges.length - 1], sample: [] };
  return { image };
}

/** Count, missing, mean, std, range and a sorted sample of the numbers among `raw`. */
function numericProfile(raw: readonly unknown[], maxSample: number): FeatureProfile {
  const values: number[] = [];
  for (const v of raw) {
    const p = parseNumeric(v);
    if (p.kind === 'number') values.push(p.value);
  }
  const n = values.length;
  let mean = 0;
  let m2 = 0;
  let min = n ? Infinity : 0;
  let max = n ? -Infinity : 0;
  values.forEach((v, i) => {
    const delta = v - mean;
    mean += delta / (i + 1);
    m2 += delta * (v - mean);
    if (v < min) min = v;
    if (v > max) max = v;
  });
  return { n, missing: raw.length - n, mean, std: n ? Math.sqrt(m2 / n) : 0, min, max, sample: sampleSorted(values, maxSample) };
}

/** Serialises a trained model with its preprocessor and reference profile. */
export async function saveModelFiles(
  tf: Tf,
  model: LayersModel,
  preprocessor: Preprocessor,
  profile: ReferenceProfile,
): Promise<ModelFiles> {
  let captured: ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!captured || !captured.modelTopology || !captured.weightSpecs || captured.weightData === undefined) {
    throw new Error('saveModelFiles: the model produced no topology or weights');
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(captured.weightData));
  const modelJson: ModelJSON = {
    modelTopology: captured.modelTopology as ModelJSON['modelTopology'],
    format: captured.format ?? 'layers-model',
    generatedBy: captured.generatedBy,
    convertedBy: captured.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: captured.weightSpecs }],
  };
  if (captured.trainingConfig) modelJson.trainingConfig = captured.trainingConfig;
  return {
    [MODEL_JSON]: encodeJson(modelJson),
    [WEIGHTS_BIN]: weights,
    [PREPROCESS_JSON]: encodeJson(preprocessor),
    [PROFILE_JSON]: encodeJson(profile),
  };
}

/** The four files a served model needs (MODEL_FILE_NAMES), e.g. from a training checkpoint. */
export function servingFiles(files: ModelFiles): ModelFiles {
  return Object.fromEntries(MODEL_FILE_NAMES.filter((name) => files[name]).map((name) => [name, files[name]]));
}

/**
 * Loads a model of any family (softmax, mlp, cnn, gbdt) for inference, from model files or a
 * training checkpoint (the optimiser files are ignored). Rows are encoded by the saved
 * preprocess.json, exactly as in training. A network uses `options.tf` when given, else
 * loadTf(options.backend) (auto: tfjs-node, wasm, cpu; cnn inference works on wasm); a gbdt model
 * needs no TensorFlow.js. Call dispose() when done to free the weights.
 */
export async function loadPredictor(files: ModelFiles, options: { tf?: Tf; backend?: string } = {}): Promise<Predictor> {
  const absent = MODEL_FILE_NAMES.filter((name) => !(files[name] instanceof Uint8Array));
  if (absent.length) throw new Error(`loadPredictor: missing model files: ${absent.join(', ')}`);
  const preprocessor = upgradePreprocessor(decodeJson<unknown>(files[PREPROCESS_JSON]));
  const profile = decodeJson<ReferenceProfile>(files[PROFILE_JSON]);
  return isGbdtModel(files) ? gbdtPredictor(files, preprocessor, profile) : networkPredictor(files, preprocessor, profile, options);
}

type Probabilities = (
  rows: ReadonlyArray<Record<string, unknown>>,
  onInvalid?: (row: number, feature: string, raw: unknown) => void,
) => Float32Array;

async function networkPredictor(
  files: ModelFiles,
  preprocessor: Preprocessor,
  profile: ReferenceProfile,
  options: { tf?: Tf; backend?: string },
): Promise<Predictor> {
  const tf = options.tf ?? (await loadTf(options.backend)).tf;
  const modelJson = decodeJson<ModelJSON>(files[MODEL_JSON]);
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const bin = files[WEIGHTS_BIN];
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const artifacts = tf.io.getModelArtifactsForJSONSync(modelJson, weightSpecs, weightData);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const regression = preprocessor.target !== undefined;
  const nClasses = preprocessor.classes.length;
  const nInputs = preprocessor.nInputs;
  const outShape = model.outputs[0]?.shape;
  if (outShape?.[outShape.length - 1] !== (regression ? 1 : nClasses)) {
    model.dispose();
    throw new Error(
      `loadPredictor: model has ${String(outShape)} outputs but preprocess.json ${regression ? 'describes a regression model (1 output)' : `lists ${nClasses} classes`}`,
    );
  }
  const inShape = model.inputs[0]?.shape;
  if (inShape?.length !== 2 || inShape[1] !== nInputs) {
    model.dispose();
    throw new Error(`loadPredictor: model input is ${String(inShape)} but preprocess.json encodes ${nInputs} columns`);
  }
  const probabilities: Probabilities = (rows, onInvalid) => {
    const x = toMatrix(preprocessor, rows, onInvalid);
    const out = tf.tidy(() => model.predict(tf.tensor2d(x, [rows.length, nInputs]), { batchSize: PREDICT_BATCH }) as Tensor);
    try {
      return regression ? unscale(preprocessor, out.dataSync()) : (out.dataSync() as Float32Array);
    } finally {
      out.dispose();
    }
  };
  return predictorOf(preprocessor, profile, probabilities, () => model.dispose());
}

function gbdtPredictor(files: ModelFiles, preprocessor: Preprocessor, profile: ReferenceProfile): Predictor {
  const { ensemble } = readBooster(files);
  const regression = preprocessor.target !== undefined;
  const outputs = regression ? 1 : preprocessor.classes.length === 2 ? 1 : preprocessor.classes.length;
  if (ensemble.nOutputs !== outputs || ensemble.nColumns !== preprocessor.nInputs) {
    throw new Error(
      `loadPredictor: the trees have ${ensemble.nOutputs} outputs over ${ensemble.nColumns} columns but preprocess.json encodes ${preprocessor.nInputs} columns and ${regression ? 'a regression label' : `${preprocessor.classes.length} classes`}`,
    );
  }
  const probabilities: Probabilities = (rows, onInvalid) => gbdtOutputs(ensemble, gbdtMatrix(preprocessor, rows, onInvalid), rows.length);
  return { ...predictorOf(preprocessor, profile, probabilities, () => {}), ensemble };
}

/** The Predictor of any family around its row-major `probabilities` (see Predictor.probabilities). */
function predictorOf(preprocessor: Preprocessor, profile: ReferenceProfile, outputs: Probabilities, release: () => void): Predictor {
  const regression = preprocessor.target !== undefined;
  const nClasses = preprocessor.classes.length;
  let disposed = false;
  const probabilities: Probabilities = (rows, onInvalid) => {
    if (disposed) throw new Error('Predictor is disposed');
    return rows.length === 0 ? new Float32Array(0) : outputs(rows, onInvalid);
  };
  return {
    task: regression ? 'regression' : 'classification',
    classes: [...preprocessor.classes],
    features: [...preprocessor.features],
    profile,
    preprocessor,
    probabilities,
    predict(rows) {
      // Serving keeps going on a bad value: the prediction says what was ignored, and monitoring
      // counts it as an input anomaly.
      const warnings = new Map<number, string[]>();
      const p = probabilities(rows, (row, feature, raw) => {
        warnings.set(row, [...(warnings.get(row) ?? []), `${feature}: ${JSON.stringify(raw)} is not a number; treated as missing`]);
      });
      const result: Prediction[] = new Array(rows.length);
      if (regression) {
        p.forEach(
          (value, i) =>
            (result[i] = { label: String(value), value, probabilities: {}, ...(warnings.has(i) ? { warnings: warnings.get(i) } : {}) }),
        );
        return result;
      }
      for (let i = 0; i < rows.length; i++) {
        let best = 0;
        const probs: Record<string, number> = {};
        for (let k = 0; k < nClasses; k++) {
          const v = p[i * nClasses + k];
          probs[preprocessor.classes[k]] = v;
          if (v > p[i * nClasses + best]) best = k;
        }
        result[i] = { label: preprocessor.classes[best], probabilities: probs, ...(warnings.has(i) ? { warnings: warnings.get(i) } : {}) };
      }
      return result;
    },
    dispose() {
      if (!disposed) {
        disposed = true;
        release();
      }
    },
  };
}

/**
 * Accuracy and log loss of a classifier on labelled rows; a label outside predictor.classes counts
 * as a miss with probability LOG_LOSS_EPS. MAE, RMSE and R^2 of a regression model (a label that
 * is not a number throws). Empty input gives NaN metrics with n = 0.
 */
export function evaluate(
  predictor: Pick<Predictor, 'task' | 'classes' | 'probabilities'>,
  rows: ReadonlyArray<Record<string, unknown>>,
  labels: readonly string[],
): Evaluation {
  if (rows.length !== labels.length) throw new Error(`evaluate: ${rows.length} rows but ${labels.length} labels`);
  const p = predictor.probabilities(rows);
  return predictor.task === 'regression' ? scoreValues(p, labels) : scoreProbabilities(p, predictor.classes, labels);
}

/** A regression model's output back in the label's units. */
export function unscale(pre: Preprocessor, scaled: ArrayLike<number>): Float32Array {
  const { mean, std } = pre.target!;
  return Float32Array.from(scaled, (v) => v * std + mean);
}

/** MAE, RMSE and R^2 of predicted numbers against labels (core/metrics/regression.ts regressionReport). */
export function scoreValues(predicted: ArrayLike<number>, labels: readonly string[]): Required<Evaluation> {
  const { n, mae, rmse, r2 } = regressionReport({ truth: Array.from(targetNumbers(labels)), predicted: Array.from(predicted) });
  return { n, accuracy: NaN, logLoss: NaN, mae, rmse, r2 };
}

/** Accuracy and log loss from row-major probabilities (shared with training's validation metrics). */
export function scoreProbabilities(p: ArrayLike<number>, classes: readonly string[], labels: readonly string[]): Evaluation {
  const k = classes.length;
  const n = labels.length;
  if (n === 0) return { accuracy: NaN, n: 0, logLoss: NaN };
  const index = new Map(classes.map((c, i) => [c, i] as const));
  let hits = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
    const t = index.get(labels[i]);
    if (t === best) hits++;
    const pt = t === undefined ? LOG_LOSS_EPS : Math.min(Math.max(p[i * k + t], LOG_LOSS_EPS), 1);
    loss -= Math.log(pt);
  }
  return { accuracy: hits / n, n, logLoss: loss / n };
}

/** ModelFiles as base64 strings (for JSON transports) and back. */
export function modelFilesToBase64(files: ModelFiles): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]),
  );
}

export function modelFilesFromBase64(encoded: Record<string, string>): ModelFiles {
  return Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
}
