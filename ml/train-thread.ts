/**
 * Entry point of a training thread (ml/training-threads.ts): trains each TrainRequest it receives,
 * one at a time, posting WorkerMessages ('epoch' per epoch, 'progress' at most once a second when
 * asked for, then 'result' or 'error') to the parent.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { trainTrial } from './train.ts';
import type { TrainRequest, WorkerMessage } from './training-threads.ts';

if (isMainThread || !parentPort) {
  throw new Error('ml/train-thread.ts is a worker entry point; use trainInThread() from ml/training-threads.ts');
}
const port = parentPort;
const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function train({ input, progress, progressIntervalMs }: TrainRequest): Promise<void> {
  try {
    const result = await trainTrial(input, (metrics) => post({ type: 'epoch', metrics }), {
      onProgress: progress ? (p) => post({ type: 'progress', progress: p }) : undefined,
      progressIntervalMs,
    });
    // Move, rather than copy, the checkpoint's buffers to the parent.
    const buffers = new Set<ArrayBuffer>();
    for (const bytes of Object.values(result.checkpoint)) {
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) buffers.add(bytes.buffer as ArrayBuffer);
    }
    post({ type: 'result', result }, [...buffers]);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', error: { name: e.name, message: e.message, stack: e.stack } });
  }
}

// The parent sends the next request only after this one's result or error.
port.on('message', (request: TrainRequest) => void train(request));
