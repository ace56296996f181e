/**
 * A gbdt model in the bundle format of ml/bundle.ts: the same four files as a network, so MLflow,
 * the registry and the model server treat every family alike.
 * - model.json      { format: 'perennial-gbdt', version, rounds, bestRounds, nOutputs, link,
 *                   trees, nodes }: what a reader needs to tell the model apart and describe it;
 *                   the model predicts with the first bestRounds rounds (LightGBM's
 *                   best_iteration, ml/gbdt/best-round.ts), trees and nodes count those;
 * - weights.bin     the booster (ml/gbdt/booster.ts encodeBooster): all `rounds` rounds' trees,
 *                   bins and the random state, so the same file serves and resumes boosting;
 * - preprocess.json, profile.json as for every family.
 * Rows are encoded like the networks' (ml/preprocess.ts) except that a missing or unreadable
 * number stays NaN, which the trees route natively instead of imputing.
 */
import type { ModelFiles } from '../../core/contracts.ts';
import type { ReferenceProfile } from '../../core/profile.ts';
import { decodeJson, encodeJson, MODEL_JSON, PREPROCESS_JSON, PROFILE_JSON, WEIGHTS_BIN } from '../bundle-format.ts';
import { toMatrix, type Preprocessor } from '../preprocess.ts';
import { decodeBooster, encodeBooster, predictOutput, truncateBooster, type BoosterState } from './booster.ts';
import type { TreeEnsemble } from './tree.ts';

export const GBDT_FORMAT = 'perennial-gbdt';

export interface GbdtModelJson {
  format: typeof GBDT_FORMAT;
  /** 2 added bestRounds (a version 1 model predicts with all its rounds); older readers refuse 2 rather than ignore it. */
  version: 1 | 2;
  rounds: number;
  bestRounds?: number;
  nOutputs: number;
  link: TreeEnsemble['link'];
  trees: number;
  nodes: number;
}

/** True for the model.json of a gbdt model (a network's is a tfjs LayersModel JSON). */
export function isGbdtModel(files: ModelFiles): boolean {
  return decodeJson<{ format?: unknown }>(files[MODEL_JSON]).format === GBDT_FORMAT;
}

/** The booster with all its rounds, saved to predict with its first bestRounds. */
export function saveGbdtFiles(state: BoosterState, bestRounds: number, pre: Preprocessor, profile: ReferenceProfile): ModelFiles {
  const trees = truncateBooster(state, bestRounds).ensemble.trees.flat();
  const modelJson: GbdtModelJson = {
    format: GBDT_FORMAT,
    version: 2,
    rounds: state.rounds,
    bestRounds,
    nOutputs: state.ensemble.nOutputs,
    link: state.ensemble.link,
    trees: trees.length,
    nodes: trees.reduce((sum, t) => sum + t.feature.length, 0),
  };
  return {
    [MODEL_JSON]: encodeJson(modelJson),
    [WEIGHTS_BIN]: encodeBooster(state),
    [PREPROCESS_JSON]: encodeJson(pre),
    [PROFILE_JSON]: encodeJson(profile),
  };
}

/** The model as it predicts: the booster truncated at its best round (what serves, explains and is warm-started from). */
export function readBooster(files: ModelFiles): BoosterState {
  const { state, bestRounds } = readCheckpointBooster(files);
  return truncateBooster(state, bestRounds);
}

/** The booster with all its rounds, to boost on exactly, and the round it predicts with. */
export function readCheckpointBooster(files: ModelFiles): { state: BoosterState; bestRounds: number } {
  const modelJson = decodeJson<GbdtModelJson>(files[MODEL_JSON]);
  if (modelJson.format !== GBDT_FORMAT || (modelJson.version !== 1 && modelJson.version !== 2)) {
    throw new Error(`${MODEL_JSON}: not a version 1 or 2 ${GBDT_FORMAT} model`);
  }
  const state = decodeBooster(files[WEIGHTS_BIN]);
  const bestRounds = modelJson.version === 1 ? state.rounds : modelJson.bestRounds;
  if (!Number.isInteger(bestRounds) || bestRounds! < 0 || bestRounds! > state.rounds) {
    throw new Error(`${MODEL_JSON}: bestRounds must be an integer in [0, ${state.rounds}] (the booster's rounds), got ${bestRounds}`);
  }
  return { state, bestRounds: bestRounds! };
}

/** The encoded input matrix of rows, with NaN for missing numbers (see the file comment). */
export function gbdtMatrix(
  pre: Preprocessor,
  rows: ReadonlyArray<Record<string, unknown>>,
  onInvalid?: (row: number, feature: string, raw: unknown) => void,
): Float32Array {
  return toMatrix(pre, rows, onInvalid, NaN);
}

/**
 * Row-major outputs in the bundle's convention: class probabilities in class order (a binary
 * booster's one output is the second class's probability), or a regression model's numbers.
 */
export function gbdtOutputs(ensemble: TreeEnsemble, x: Float32Array, nRows: number): Float32Array {
  return asBundleOutputs(ensemble, predictOutput(ensemble, x, nRows), nRows);
}

/** predictOutput's values in the bundle's convention (see gbdtOutputs). */
export function asBundleOutputs(ensemble: Pick<TreeEnsemble, 'link'>, out: Float64Array, nRows: number): Float32Array {
  if (ensemble.link !== 'sigmoid') return Float32Array.from(out);
  const p = new Float32Array(nRows * 2);
  for (let i = 0; i < nRows; i++) {
    p[2 * i] = 1 - out[i];
    p[2 * i + 1] = out[i];
  }
  return p;
}
