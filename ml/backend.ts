/**
 * Loads TensorFlow.js with the fastest backend available in this process.
 *
 * - 'tensorflow': `@tensorflow/tfjs-node` (native libtensorflow). It is an optionalDependency and
 *   cannot be installed on every machine, so it is imported dynamically and its absence is fine.
 * - 'wasm': `@tensorflow/tfjs-backend-wasm`; loads its .wasm files from the package, no network.
 *   About 4x faster than 'cpu' for the small MLPs trained here (see shared/notes/tfjs.md).
 * - 'cpu': the pure-JS fallback.
 *
 * The choice is per process (per worker thread): tfjs's engine is a global singleton.
 * Production mode is enabled, which also silences tfjs's console banners and warnings.
 */
import * as tfjs from '@tensorflow/tfjs';

export type Tf = typeof import('@tensorflow/tfjs');
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export interface LoadedTf {
  tf: Tf;
  /** The backend actually in use: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
}

export const BACKEND_ENV = 'PERENNIAL_TF_BACKEND';
const PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

const cache = new Map<BackendPreference, Promise<LoadedTf>>();
let nodeModule: Promise<Tf | null> | undefined;
let wasmRegistered: Promise<boolean> | undefined;

/**
 * Resolves the requested backend (cached per preference):
 * an explicit 'tensorflow' | 'wasm' | 'cpu' argument wins; with no argument or 'auto', the
 * environment variable PERENNIAL_TF_BACKEND (same values) decides; otherwise 'auto' tries
 * tfjs-node, then wasm, then cpu. An explicitly requested backend that cannot load is an error.
 */
export function loadTf(preferred?: BackendPreference | string): Promise<LoadedTf> {
  const choice = resolvePreference(preferred);
  let pending = cache.get(choice);
  if (!pending) {
    pending = activate(choice);
    cache.set(choice, pending);
    pending.catch(() => cache.delete(choice));
  }
  return pending.then(async (loaded) => {
    // Another preference may have switched the global engine since; switch back if so.
    if (loaded.tf.getBackend() !== loaded.backend) {
      await loaded.tf.setBackend(loaded.backend);
      await loaded.tf.ready();
    }
    return loaded;
  });
}

function resolvePreference(preferred: string | undefined): BackendPreference {
  let p = preferred ?? 'auto';
  if (p === 'auto') p = process.env[BACKEND_ENV]?.trim() || 'auto';
  if (!(PREFERENCES as readonly string[]).includes(p)) {
    throw new Error(`Unknown TensorFlow.js backend "${p}"; use one of ${PREFERENCES.join(', ')}.`);
  }
  return p as BackendPreference;
}

async function activate(choice: BackendPreference): Promise<LoadedTf> {
  if (choice === 'tensorflow' || choice === 'auto') {
    const tfNode = await importTfNode();
    if (tfNode) return switchTo(tfNode, 'tensorflow');
    if (choice === 'tensorflow') {
      throw new Error('The "tensorflow" backend needs @tensorflow/tfjs-node, which is not installed or failed to load.');
    }
  }
  if (choice === 'wasm' || choice === 'auto') {
    try {
      if (await registerWasm()) return await switchTo(tfjs, 'wasm');
    } catch (err) {
      if (choice === 'wasm') throw err;
    }
    if (choice === 'wasm') throw new Error('The wasm backend of TensorFlow.js failed to initialise.');
  }
  return switchTo(tfjs, 'cpu');
}

async function switchTo(tf: Tf, backend: string): Promise<LoadedTf> {
  tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TensorFlow.js backend "${backend}" failed to initialise.`);
  await tf.ready();
  return { tf, backend: tf.getBackend() };
}

function importTfNode(): Promise<Tf | null> {
  nodeModule ??= (async () => {
    try {
      const name = '@tensorflow/tfjs-node'; // not a literal import: the package is optional
      const mod = (await import(name)) as Tf & { default?: Tf };
      const tf = (mod.default && typeof mod.default.setBackend === 'function' ? mod.default : mod) as Tf;
      return typeof tf.setBackend === 'function' ? tf : null;
    } catch {
      return null;
    }
  })();
  return nodeModule;
}

function registerWasm(): Promise<boolean> {
  wasmRegistered ??= (async () => {
    await import('@tensorflow/tfjs-backend-wasm'); // registers the 'wasm' backend factory
    return tfjs.findBackendFactory('wasm') != null;
  })();
  return wasmRegistered;
}
