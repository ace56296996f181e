/**
 * The names of the bundle's files and their JSON encoding (the format is described in
 * ml/bundle.ts), apart so that every family's writer and reader can use them without loading
 * the networks' code.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const PREPROCESS_JSON = 'preprocess.json';
export const PROFILE_JSON = 'profile.json';
export const MODEL_FILE_NAMES = [MODEL_JSON, WEIGHTS_BIN, PREPROCESS_JSON, PROFILE_JSON] as const;
/** Optimiser state of a training checkpoint (ml/checkpoint.ts); not needed to serve. */
export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
export const CHECKPOINT_FILE_NAMES = [...MODEL_FILE_NAMES, OPTIMIZER_JSON, OPTIMIZER_BIN] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}
