/**
 * The optimiser state of a training checkpoint, so training can stop after any epoch (a rung of
 * successive halving) and resume later with exactly the state it had: the model files of
 * ml/bundle.ts plus
 * - optimizer.json  TrainerState: the epochs completed, the trial config and seed, the
 *                   optimiser's class and iteration count, and the manifest of optimizer.bin;
 * - optimizer.bin   the optimiser's slot variables (Adam: first then second moments; RMSProp:
 *                   mean squares then moments; SGD: none), float32 little-endian, in manifest
 *                   order, which is the order of the model's trainable weights.
 */
import type { ModelConfig } from '../core/search-space.ts';
import type { Tf } from './backend.ts';
import { decodeJson, encodeJson, OPTIMIZER_BIN, OPTIMIZER_JSON } from './bundle.ts';
import type { ModelFiles } from '../core/contracts.ts';

type Optimizer = import('@tensorflow/tfjs').Optimizer;
type Tensor = import('@tensorflow/tfjs').Tensor;
type NamedTensor = { name: string; tensor: Tensor };

export interface TrainerState {
  version: 1;
  /** Epochs completed when the checkpoint was written: training resumes with epoch + 1. */
  epoch: number;
  seed: number;
  config: ModelConfig;
  optimizer: {
    /** tfjs class name: 'Adam' | 'SGD' | 'RMSProp'. */
    className: string;
    /** Optimiser steps taken so far. */
    iterations: number;
    /**
     * Adam's running beta1^t and beta2^t. tfjs's setWeights recomputes them with pow(), which
     * can differ in the last float32 bit from the product the optimiser accumulated; restoring
     * them keeps a resumed run bit-identical to an uninterrupted one.
     */
    accBeta1?: number;
    accBeta2?: number;
  };
  /** The slot variables in optimizer.bin, in order. */
  weights: Array<{ name: string; shape: number[]; dtype: 'float32' }>;
}

interface AdamInternals {
  accBeta1?: { assign(v: Tensor): void; dataSync(): ArrayLike<number> };
  accBeta2?: { assign(v: Tensor): void; dataSync(): ArrayLike<number> };
}

/** optimizer.json and optimizer.bin for the optimiser's current state. */
export async function saveOptimizerState(
  tf: Tf,
  optimizer: Optimizer,
  meta: { epoch: number; seed: number; config: ModelConfig },
): Promise<ModelFiles> {
  const named = await optimizer.getWeights();
  const [iter, ...slots] = named;
  try {
    if (!iter || iter.name !== 'iter') throw new Error('saveOptimizerState: the optimiser did not report its iteration count');
    const iterations = (await iter.tensor.data())[0];
    const total = slots.reduce((n, s) => n + s.tensor.size, 0);
    const bin = new Float32Array(total);
    let offset = 0;
    for (const s of slots) {
      if (s.tensor.dtype !== 'float32') throw new Error(`saveOptimizerState: ${s.name} is ${s.tensor.dtype}, expected float32`);
      bin.set(await s.tensor.data<'float32'>(), offset);
      offset += s.tensor.size;
    }
    const state: TrainerState = {
      version: 1,
      epoch: meta.epoch,
      seed: meta.seed,
      config: meta.config,
      optimizer: { className: optimizer.getClassName(), iterations },
      weights: slots.map((s) => ({ name: stableSlotName(s.name), shape: [...s.tensor.shape], dtype: 'float32' })),
    };
    const adam = optimizer as unknown as AdamInternals;
    if (adam.accBeta1 && adam.accBeta2 && typeof adam.accBeta1.dataSync === 'function') {
      state.optimizer.accBeta1 = adam.accBeta1.dataSync()[0];
      state.optimizer.accBeta2 = adam.accBeta2.dataSync()[0];
    }
    return { [OPTIMIZER_JSON]: encodeJson(state), [OPTIMIZER_BIN]: new Uint8Array(bin.buffer) };
  } finally {
    iter?.tensor.dispose(); // a fresh scalar; the slots are the optimiser's live variables
  }
}

/**
 * A slot's name without the suffix tfjs adds to a variable name already used in this thread
 * ("dense_2/kernel_3/m" -> "dense_2/kernel/m"), so a warm training thread writes the same file as
 * a fresh one. Names are for people: slots are restored by position.
 */
const stableSlotName = (name: string) => name.replace(/_\d+(?=\/[^/]+$)/, '');

/** The TrainerState of a checkpoint; throws when the optimiser files are missing. */
export function readTrainerState(files: ModelFiles): TrainerState {
  if (!(files[OPTIMIZER_JSON] instanceof Uint8Array) || !(files[OPTIMIZER_BIN] instanceof Uint8Array)) {
    throw new Error(`The checkpoint has no optimiser state (${OPTIMIZER_JSON}, ${OPTIMIZER_BIN}): it cannot resume training`);
  }
  const state = decodeJson<TrainerState>(files[OPTIMIZER_JSON]);
  if (state.version !== 1) throw new Error(`${OPTIMIZER_JSON}: unsupported version ${String(state.version)}`);
  return state;
}

/**
 * Loads the checkpoint's optimiser state into `optimizer`, a fresh optimiser of the same class
 * whose variables list (minimize's varList) has the same order and shapes as when it was saved.
 */
export async function restoreOptimizerState(tf: Tf, optimizer: Optimizer, files: ModelFiles): Promise<TrainerState> {
  const state = readTrainerState(files);
  if (state.optimizer.className !== optimizer.getClassName()) {
    throw new Error(`The checkpoint's optimiser is ${state.optimizer.className}, not ${optimizer.getClassName()}`);
  }
  const raw = files[OPTIMIZER_BIN];
  if (raw.byteLength % 4 !== 0) throw new Error(`${OPTIMIZER_BIN}: ${raw.byteLength} bytes is not a whole number of float32 values`);
  // Copy: the Uint8Array may be unaligned or a view of a larger buffer.
  const values = new Float32Array(raw.slice().buffer);
  const tensors: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(state.optimizer.iterations, 'int32') }];
  let offset = 0;
  try {
    for (const w of state.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (offset + size > values.length) throw new Error(`${OPTIMIZER_BIN} is shorter than ${OPTIMIZER_JSON} describes`);
      tensors.push({ name: w.name, tensor: tf.tensor(values.subarray(offset, offset + size), w.shape, 'float32') });
      offset += size;
    }
    if (offset !== values.length) throw new Error(`${OPTIMIZER_BIN} holds ${values.length} values, ${OPTIMIZER_JSON} describes ${offset}`);
    // setWeights wraps each tensor in a new variable that shares its data; disposing ours is safe.
    await optimizer.setWeights(tensors);
  } finally {
    tf.dispose(tensors.map((t) => t.tensor));
  }
  const adam = optimizer as unknown as AdamInternals;
  if (state.optimizer.accBeta1 !== undefined && state.optimizer.accBeta2 !== undefined && adam.accBeta1 && adam.accBeta2) {
    const [b1, b2] = [tf.scalar(state.optimizer.accBeta1), tf.scalar(state.optimizer.accBeta2)];
    adam.accBeta1.assign(b1);
    adam.accBeta2.assign(b2);
    tf.dispose([b1, b2]);
  }
  return state;
}
