/**
 * Training threads: `trainInThread` runs ml/train.ts `trainTrial` in a worker_threads Worker, so
 * the calling event loop stays free to heartbeat, and an AbortSignal stops training at once.
 *
 * Threads are kept warm between calls. Starting one costs about two seconds (tsx's loader and
 * TensorFlow.js with its wasm backend load in every new isolate), as much as a short rung trains,
 * so a sweep that started a thread per rung spent most of its time starting threads. A thread
 * whose call finished (with a result or a training error) goes back to the idle set; one that was
 * aborted, or whose caller's callback threw, is terminated, since it may be mid-epoch. Idle
 * threads do not keep the process alive and end after IDLE_TIMEOUT_MS.
 *
 * Reuse does not change results: trainTrial seeds every random draw from its input, restores
 * checkpoints positionally, and disposes every tensor it creates (the training tests check that
 * a reused thread returns byte-identical checkpoints and the same peak memory).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BatchProgress, EpochMetrics, TrainInput, TrainResult } from './train.ts';

/** A training call, from the parent to a thread. */
export interface TrainRequest {
  input: TrainInput;
  progress: boolean;
  progressIntervalMs?: number;
}

/** Messages from a training thread to its parent, per call: 'epoch' and 'progress', then 'result' or 'error'. */
export type WorkerMessage =
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'progress'; progress: BatchProgress }
  | { type: 'result'; result: TrainResult }
  | { type: 'error'; error: { name: string; message: string; stack?: string } };

/** An idle thread is ended after this long without work. */
export const IDLE_TIMEOUT_MS = 60_000;
/** At most this many idle threads are kept; more concurrent calls start more threads. */
const MAX_IDLE = availableParallelism();

interface IdleThread {
  worker: Worker;
  timer: NodeJS.Timeout;
  onExit: () => void;
}
const idle: IdleThread[] = [];
let started = 0;

/** An Error with name 'AbortError', as fetch and timers/promises use. */
export function abortError(reason?: unknown): Error {
  const err = new Error('Training was aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}

/**
 * Source of a thread's entry script. A worker is a fresh isolate that must load .ts modules, and
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

function takeThread(): Worker {
  const warm = idle.pop();
  if (warm) {
    clearTimeout(warm.timer);
    warm.worker.off('exit', warm.onExit).ref();
    return warm.worker;
  }
  started += 1;
  return new Worker(workerBootstrap(), { eval: true, execArgv: [] });
}

function release(worker: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const forget = () => {
    const at = idle.indexOf(entry);
    if (at >= 0) idle.splice(at, 1);
    clearTimeout(entry.timer);
  };
  const entry: IdleThread = {
    worker,
    timer: setTimeout(() => {
      forget();
      void worker.terminate();
    }, IDLE_TIMEOUT_MS).unref(),
    // A thread that dies while idle is simply forgotten.
    onExit: forget,
  };
  worker.once('exit', entry.onExit);
  idle.push(entry);
}

/** Threads started by this process so far, and those idle now (for tests and benchmarks). */
export function trainingThreadStats(): { started: number; idle: number } {
  return { started, idle: idle.length };
}

/** Ends every idle thread now. */
export async function closeTrainingThreads(): Promise<void> {
  const all = idle.splice(0);
  await Promise.all(all.map(({ worker, timer }) => (clearTimeout(timer), worker.terminate())));
}

/**
 * Trains one rung (trainTrial) in a training thread. `onEpoch` receives each epoch's metrics as
 * they arrive (on the caller's event loop); `options.onProgress`, when given, receives
 * within-epoch progress at most every `options.progressIntervalMs` (default 1 s), for
 * heartbeating through long epochs. When `signal` aborts, the thread is terminated immediately
 * and the promise rejects with an AbortError (error.name === 'AbortError', error.cause =
 * signal.reason). If onEpoch or onProgress throws, training is stopped the same way and the
 * promise rejects with that error.
 */
export function trainInThread(
  input: TrainInput,
  onEpoch?: (metrics: EpochMetrics) => void,
  signal?: AbortSignal,
  options: { onProgress?: (progress: BatchProgress) => void; progressIntervalMs?: number } = {},
): Promise<TrainResult> {
  const { onProgress, progressIntervalMs } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal.reason));
  return new Promise<TrainResult>((resolve, reject) => {
    const worker = takeThread();
    let settled = false;
    const finish = (healthy: boolean, err: unknown, result?: TrainResult) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (healthy) release(worker);
      else void worker.terminate();
      if (err !== undefined) reject(err);
      else resolve(result!);
    };
    const onAbort = () => finish(false, abortError(signal?.reason));
    const onError = (err: Error) => finish(false, err);
    const onExit = (code: number) => finish(false, new Error(`The training thread exited (code ${code}) before returning a result`));
    const onMessage = (msg: WorkerMessage) => {
      if (settled) return;
      try {
        if (msg.type === 'epoch') onEpoch?.(msg.metrics);
        else if (msg.type === 'progress') onProgress?.(msg.progress);
        else if (msg.type === 'result') finish(true, undefined, msg.result);
        else {
          // trainTrial threw (bad input, a diverged model...): the thread itself is fine.
          const err = new Error(msg.error.message);
          err.name = msg.error.name;
          if (msg.error.stack) err.stack = msg.error.stack;
          finish(true, err);
        }
      } catch (err) {
        finish(false, err);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage({ input, progress: onProgress !== undefined, progressIntervalMs } satisfies TrainRequest);
  });
}
