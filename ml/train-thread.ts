/**
 * Worker-thread entry point for ml/train.ts `trainInThread`: trains the candidate in `workerData`
 * and posts WorkerMessages (one 'epoch' per epoch, then 'result' or 'error') to the parent.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { trainCandidate, type TrainInput, type WorkerMessage } from './train.ts';

if (isMainThread || !parentPort) {
  throw new Error('ml/train-thread.ts is a worker entry point; use trainInThread() from ml/train.ts');
}
const port = parentPort;
const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

try {
  const result = await trainCandidate(workerData as TrainInput, (metrics) => post({ type: 'epoch', metrics }));
  // Move, rather than copy, the model files' buffers to the parent.
  const buffers = new Set<ArrayBuffer>();
  for (const bytes of Object.values(result.files)) {
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) buffers.add(bytes.buffer as ArrayBuffer);
  }
  post({ type: 'result', result }, [...buffers]);
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', error: { name: e.name, message: e.message, stack: e.stack } });
}
