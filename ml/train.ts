/**
 * Training of one candidate model.
 *
 * `trainInThread` is what activities call: the CPU-bound work runs in a worker_threads Worker
 * (ml/train-thread.ts), so the calling event loop stays free to heartbeat, and an AbortSignal
 * terminates the worker at once. `trainCandidate` is the same-thread implementation the worker
 * runs (also used by benchmarks).
 */
import { Worker } from 'node:worker_threads';
import type { CandidateSpec } from '../core/spec.ts';
import { loadTf, type Tf } from './backend.ts';
import { buildProfile, saveModelFiles, scoreProbabilities, type ModelFiles } from './bundle.ts';
import { buildModel } from './model.ts';
import { fitPreprocessor, labelIndex, toMatrix } from './preprocess.ts';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Scalar = import('@tensorflow/tfjs').Scalar;
type Variable = import('@tensorflow/tfjs').Variable;

export interface LabelledRows {
  rows: Record<string, unknown>[];
  labels: string[];
}

export interface TrainInput {
  candidate: CandidateSpec;
  features: string[];
  classes: string[];
  train: LabelledRows;
  validation: LabelledRows;
  /** Seeds the initial weights and the per-epoch shuffling: same input and seed, same model. */
  seed: number;
  /** 'auto' (default) | 'tensorflow' | 'wasm' | 'cpu'; see ml/backend.ts. */
  backend?: string;
}

export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Training loss averaged over the epoch's rows, as each batch saw it (includes the L2 penalty when l2 > 0). */
  loss: number;
  /** Training accuracy over the epoch's rows, as each batch saw it. */
  accuracy: number;
  /** Cross-entropy on the validation rows after the epoch (no L2 term); NaN without validation rows. */
  valLoss: number;
  valAccuracy: number;
}

export interface TrainResult {
  /** The saved model (ml/bundle.ts format). Uint8Array values survive postMessage. */
  files: ModelFiles;
  history: EpochMetrics[];
  /** Validation metrics of the returned (final-epoch) model. */
  valAccuracy: number;
  valLogLoss: number;
  paramCount: number;
  /** Wall time of preprocessing, training and saving (not of loading TensorFlow.js). */
  trainMs: number;
  backend: string;
}

/** Messages from the training worker to its parent. */
export type WorkerMessage =
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'result'; result: TrainResult }
  | { type: 'error'; error: { name: string; message: string; stack?: string } };

/** Rows per predict batch for the validation metrics. */
const EVAL_BATCH = 8192;

/**
 * Trains one candidate on this thread. Deterministic for a given input and backend: seeded
 * initialisers and a seeded shuffle per epoch (tfjs's own shuffle uses Math.random).
 */
export async function trainCandidate(
  input: TrainInput,
  onEpoch?: (metrics: EpochMetrics) => void,
  options: { tf?: Tf } = {},
): Promise<TrainResult> {
  checkInput(input);
  const loaded = options.tf ? { tf: options.tf, backend: options.tf.getBackend() } : await loadTf(input.backend);
  const { tf, backend } = loaded;
  const started = performance.now();

  const pre = fitPreprocessor(input.train.rows, input.features, input.classes);
  const d = pre.features.length;
  const k = pre.classes.length;
  const n = input.train.rows.length;
  const xTrain = toMatrix(pre, input.train.rows);
  const yTrain = labelIndex(pre, input.train.labels);
  const xVal = toMatrix(pre, input.validation.rows);
  const nVal = input.validation.rows.length;

  const model = buildModel(tf, input.candidate, d, k, input.seed);
  const optimizer = model.optimizer;
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const batchSize = Math.max(1, Math.min(input.candidate.batchSize, n));
  const rng = mulberry32(input.seed ^ 0x5eed);
  const history: EpochMetrics[] = [];
  const xs = new Float32Array(n * d);
  const ys = new Float32Array(n * k); // one-hot
  const order = Array.from({ length: n }, (_, i) => i);
  let xValTensor: Tensor | undefined;
  try {
    if (nVal > 0) xValTensor = tf.tensor2d(xVal, [nVal, d]);
    for (let epoch = 1; epoch <= input.candidate.epochs; epoch++) {
      shuffleInPlace(order, rng);
      ys.fill(0);
      for (let i = 0; i < n; i++) {
        const src = order[i];
        xs.set(xTrain.subarray(src * d, src * d + d), i * d);
        ys[i * k + yTrain[src]] = 1;
      }
      // One optimiser step per batch; batch sums of loss and hits stay on the backend until the
      // end of the epoch, so there is a single read per epoch.
      const sums: Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        tf.tidy(() => {
          const xb = tf.tensor2d(xs.subarray(start * d, (start + size) * d), [size, d]);
          const yb = tf.tensor2d(ys.subarray(start * k, (start + size) * k), [size, k]);
          let stats: Tensor | undefined;
          // The same objective as LayersModel.fit: mean categorical cross-entropy plus the
          // layers' regularisation penalties, minimised by the compiled optimiser.
          optimizer.minimize(
            () => {
              const probs = model.apply(xb, { training: true }) as Tensor;
              let loss = tf.mean(tf.metrics.categoricalCrossentropy(yb, probs)) as Scalar;
              for (const penalty of model.calculateLosses()) loss = tf.add(loss, penalty);
              const hits = tf.sum(tf.metrics.categoricalAccuracy(yb, probs));
              stats = tf.keep(tf.stack([tf.mul(loss, size), hits]));
              return loss;
            },
            false,
            variables,
          );
          sums.push(stats!);
        });
      }
      const totals = tf.tidy(() => tf.addN(sums));
      const [lossSum, hitSum] = totals.dataSync();
      totals.dispose();
      tf.dispose(sums);
      const val = xValTensor ? validationMetrics(tf, model, xValTensor, pre.classes, input.validation.labels) : { accuracy: NaN, logLoss: NaN };
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / n,
        accuracy: hitSum / n,
        valLoss: val.logLoss,
        valAccuracy: val.accuracy,
      };
      history.push(metrics);
      onEpoch?.(metrics);
    }
    const profile = buildProfile(input.train.rows, pre.features, input.train.labels);
    const files = await saveModelFiles(tf, model, pre, profile);
    const last = history[history.length - 1];
    return {
      files,
      history,
      valAccuracy: last.valAccuracy,
      valLogLoss: last.valLoss,
      paramCount: model.countParams(),
      trainMs: performance.now() - started,
      backend,
    };
  } finally {
    xValTensor?.dispose();
    model.optimizer?.dispose();
    model.dispose();
  }
}

function validationMetrics(
  tf: Tf,
  model: import('@tensorflow/tfjs').LayersModel,
  x: Tensor,
  classes: string[],
  labels: string[],
): { accuracy: number; logLoss: number } {
  const out = tf.tidy(() => model.predict(x, { batchSize: EVAL_BATCH }) as Tensor);
  try {
    const { accuracy, logLoss } = scoreProbabilities(out.dataSync(), classes, labels);
    return { accuracy, logLoss };
  } finally {
    out.dispose();
  }
}

function checkInput(input: TrainInput): void {
  const { train, validation } = input;
  if (train.rows.length === 0) throw new Error('trainCandidate: no training rows');
  if (train.rows.length !== train.labels.length) {
    throw new Error(`trainCandidate: ${train.rows.length} training rows but ${train.labels.length} labels`);
  }
  if (validation.rows.length !== validation.labels.length) {
    throw new Error(`trainCandidate: ${validation.rows.length} validation rows but ${validation.labels.length} labels`);
  }
}

/** Small, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace(a: number[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** An Error with name 'AbortError', as fetch and timers/promises use. */
export function abortError(reason?: unknown): Error {
  const err = new Error('Training was aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}

/**
 * Source of the worker's entry script. A worker is a fresh isolate that must load .ts modules, and
 * on Node 20 `execArgv: ['--import', 'tsx']` does not apply tsx's hooks to the worker's entry
 * module. So the entry is a tiny script that registers tsx's ESM hooks in the worker and then
 * imports ml/train-thread.ts. Both are absolute URLs, so neither the working directory nor the way
 * the parent was started (tsx CLI, `node --import tsx`, plain node) matters; `execArgv: []` keeps
 * the parent's loader flags out of the worker.
 */
function workerBootstrap(): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./train-thread.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

/**
 * Trains one candidate in a worker thread. `onEpoch` receives each epoch's metrics as they arrive
 * (on the caller's event loop). When `signal` aborts, the worker is terminated immediately and the
 * promise rejects with an AbortError (error.name === 'AbortError', error.cause = signal.reason).
 * If onEpoch throws, training is stopped the same way and the promise rejects with that error.
 */
export function trainInThread(
  input: TrainInput,
  onEpoch?: (metrics: EpochMetrics) => void,
  signal?: AbortSignal,
): Promise<TrainResult> {
  if (signal?.aborted) return Promise.reject(abortError(signal.reason));
  return new Promise<TrainResult>((resolve, reject) => {
    const worker = new Worker(workerBootstrap(), { eval: true, workerData: input, execArgv: [] });
    let settled = false;
    const finish = (err: unknown, result?: TrainResult) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      worker.removeAllListeners('message');
      void worker.terminate();
      if (err !== undefined) reject(err);
      else resolve(result!);
    };
    const onAbort = () => finish(abortError(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (msg: WorkerMessage) => {
      if (settled) return;
      if (msg.type === 'epoch') {
        try {
          onEpoch?.(msg.metrics);
        } catch (err) {
          finish(err);
        }
      } else if (msg.type === 'result') {
        finish(undefined, msg.result);
      } else if (msg.type === 'error') {
        const err = new Error(msg.error.message);
        err.name = msg.error.name;
        if (msg.error.stack) err.stack = msg.error.stack;
        finish(err);
      }
    });
    worker.on('error', (err) => finish(err));
    worker.on('exit', (code) => finish(new Error(`The training worker exited (code ${code}) before returning a result`)));
  });
}
