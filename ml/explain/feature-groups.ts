/**
 * What attributions are reported for: the model's input features as the spec names them, not
 * the encoded columns the model reads (ml/preprocess.ts). A category feature's one-hot columns
 * are one feature; Shapley values are additive, so a feature's attribution is the sum over its
 * columns. An image's pixels (every numeric feature of an image spec) are one feature, `image`:
 * attributing each of hundreds of pixels would cost a model call per pixel per sample, so the
 * image is attributed as a whole (and the answer says so).
 */
import type { Preprocessor } from '../preprocess.ts';

export interface FeatureGroup {
  /** The name attributions are reported under: the feature's, or `image` for all pixels. */
  name: string;
  /** The spec features (raw row keys) it covers. */
  features: string[];
  /** The model input columns it covers. */
  columns: number[];
}

export const IMAGE_GROUP = 'image';

export function featureGroups(pre: Preprocessor): FeatureGroup[] {
  const groups: FeatureGroup[] = [];
  let image: FeatureGroup | undefined;
  let column = 0;
  for (const e of pre.encodings) {
    const width = e.type === 'number' ? 1 : e.values.length;
    const columns = Array.from({ length: width }, (_, i) => column + i);
    column += width;
    if (pre.image && e.type === 'number') {
      if (!image) {
        // A category feature could be called "image" too: the pixels' group then takes another name.
        const name = pre.features.includes(IMAGE_GROUP) ? `${IMAGE_GROUP} (pixels)` : IMAGE_GROUP;
        image = { name, features: [], columns: [] };
        groups.push(image);
      }
      image.features.push(e.name);
      image.columns.push(...columns);
      continue;
    }
    groups.push({ name: e.name, features: [e.name], columns });
  }
  return groups;
}

/** A note for answers about an image model: how its pixels are attributed. */
export function groupingNote(pre: Preprocessor, groups: readonly FeatureGroup[]): string | undefined {
  const image = pre.image && groups.find((g) => g.features.length > 1);
  return image
    ? `the ${image.features.length} pixel features (${image.features[0]}..${image.features.at(-1)}) are attributed as one feature, "${image.name}"`
    : undefined;
}

/** Per group, the sum of its columns' attributions. */
export function sumByGroup(columns: ArrayLike<number>, groups: readonly FeatureGroup[]): Float64Array {
  return Float64Array.from(groups, (g) => g.columns.reduce((a, c) => a + columns[c], 0));
}

/** `x`'s values for the groups flagged in `inCoalition`, `b`'s for the others: the rows sampled Shapley values feed the model. */
export function composeRows(groups: readonly FeatureGroup[]) {
  return (x: Record<string, unknown>, b: Record<string, unknown>, inCoalition: Uint8Array): Record<string, unknown> => {
    const row: Record<string, unknown> = { ...b };
    for (let i = 0; i < groups.length; i++) if (inCoalition[i]) for (const f of groups[i].features) row[f] = x[f];
    return row;
  };
}
