/**
 * Which columns of the encoded input matrix (ml/preprocess.ts toMatrix) belong to which spec
 * feature: a number is one column, a category one column per known value. Importances and
 * attributions computed per column are reported per feature by summing its columns.
 */
import type { Preprocessor } from './preprocess.ts';

/** The feature index of every column, in column order. */
export function columnFeatures(pre: Preprocessor): Int32Array {
  const owner = new Int32Array(pre.nInputs);
  let col = 0;
  pre.encodings.forEach((e, j) => {
    const width = e.type === 'number' ? 1 : e.values.length;
    owner.fill(j, col, col + width);
    col += width;
  });
  return owner;
}

/** Per-column values summed per feature, keyed by feature name in spec order. */
export function perFeature(pre: Preprocessor, byColumn: ArrayLike<number>): Record<string, number> {
  const owner = columnFeatures(pre);
  const sums = new Float64Array(pre.features.length);
  for (let c = 0; c < owner.length; c++) sums[owner[c]] += byColumn[c];
  return Object.fromEntries(pre.features.map((name, j) => [name, sums[j]]));
}
