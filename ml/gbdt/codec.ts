/**
 * A booster's state as bytes: "GBDT", a format version, a JSON header (parameters, shape, array
 * lengths), then the typed arrays' raw little-endian bytes, each aligned to its element size, so
 * every double (bin bounds, thresholds, leaf values, base scores) round-trips exactly.
 */
import type { ColumnBins } from './bins.ts';
import type { BoosterState } from './booster.ts';
import { GbdtInputError, validateParams } from './params.ts';
import type { Tree } from './tree.ts';

const MAGIC = 0x54424447; // "GBDT" little-endian
const VERSION = 1;

interface Header {
  params: BoosterState['params'];
  rounds: number;
  seed: number;
  nRows: number;
  nClasses: number;
  nOutputs: number;
  link: BoosterState['ensemble']['link'];
  nColumns: number;
  bins: Array<{ bounds: number; nanBin: boolean }>;
  /** Node count of every tree, per output. */
  trees: number[][];
}

type Typed = Float64Array | Int32Array | Uint8Array;

/** Tree arrays in the order they are written. */
const TREE_FIELDS = ['threshold', 'value', 'cover', 'gain', 'feature', 'left', 'right', 'missingLeft'] as const;
const TREE_TYPES = {
  threshold: Float64Array,
  value: Float64Array,
  cover: Float64Array,
  gain: Float64Array,
  feature: Int32Array,
  left: Int32Array,
  right: Int32Array,
  missingLeft: Uint8Array,
};

export function encodeBooster(state: BoosterState): Uint8Array {
  const { ensemble } = state;
  const header: Header = {
    params: state.params,
    rounds: state.rounds,
    seed: state.seed,
    nRows: state.nRows,
    nClasses: state.nClasses,
    nOutputs: ensemble.nOutputs,
    link: ensemble.link,
    nColumns: ensemble.nColumns,
    bins: state.bins.map((c) => ({ bounds: c.upper.length, nanBin: c.nanBin })),
    trees: ensemble.trees.map((trees) => trees.map((t) => t.feature.length)),
  };
  const arrays: Typed[] = [ensemble.base, ...state.bins.map((c) => c.upper)];
  for (const trees of ensemble.trees) for (const tree of trees) for (const field of TREE_FIELDS) arrays.push(tree[field]);
  const json = new TextEncoder().encode(JSON.stringify(header));
  let size = 12 + json.length;
  for (const a of arrays) size = align(size, a.BYTES_PER_ELEMENT) + a.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = 12 + json.length;
  for (const a of arrays) {
    at = align(at, a.BYTES_PER_ELEMENT);
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

export function decodeBooster(bytes: Uint8Array): BoosterState {
  if (!(bytes instanceof Uint8Array) || bytes.length < 12) fail('not a gbdt booster state (too short)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('not a gbdt booster state (bad magic)');
  if (view.getUint32(4, true) !== VERSION) fail(`unsupported format version ${view.getUint32(4, true)} (this build reads ${VERSION})`);
  const jsonLength = view.getUint32(8, true);
  if (12 + jsonLength > bytes.length) fail('truncated header');
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as Header;
    return readState(header, bytes, 12 + jsonLength);
  } catch (err) {
    if (err instanceof GbdtInputError) throw err;
    return fail(`malformed header (${(err as Error).message})`);
  }
}

function readState(header: Header, bytes: Uint8Array, from: number): BoosterState {
  let at = from;
  const take = (Type: { new (buffer: ArrayBuffer): Typed; BYTES_PER_ELEMENT: number }, length: number): Typed => {
    at = align(at, Type.BYTES_PER_ELEMENT);
    const byteLength = length * Type.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.length) fail('truncated arrays');
    // Copy, so every array owns an aligned buffer.
    const copy = bytes.slice(at, at + byteLength);
    at += byteLength;
    return new Type(copy.buffer);
  };
  const base = take(Float64Array, header.nOutputs) as Float64Array;
  const bins: ColumnBins[] = header.bins.map((c) => ({ upper: take(Float64Array, c.bounds) as Float64Array, nanBin: c.nanBin }));
  const trees = header.trees.map((sizes) =>
    sizes.map((n) => {
      const tree = {} as Record<(typeof TREE_FIELDS)[number], Typed>;
      for (const field of TREE_FIELDS) tree[field] = take(TREE_TYPES[field], n);
      return tree as unknown as Tree;
    }),
  );
  if (at !== bytes.length) fail(`${bytes.length - at} unexpected trailing bytes`);
  return {
    params: validateParams(header.params),
    ensemble: { nOutputs: header.nOutputs, trees, base, link: header.link, nColumns: header.nColumns },
    rounds: header.rounds,
    seed: header.seed,
    nRows: header.nRows,
    nClasses: header.nClasses,
    bins,
  };
}

function fail(why: string): never {
  throw new GbdtInputError(`gbdt state: ${why}`);
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;
