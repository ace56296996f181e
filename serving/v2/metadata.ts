/**
 * How a deployed tabular model looks in the Open Inference Protocol (KServe V2).
 *
 * Inputs: one tensor per feature, named after it, of shape [-1] (one element per row, so a request
 * of N rows sends every input with shape [N]). A number feature is FP64 (FP32 is accepted too): the
 * values are logged as sent and monitoring compares them with the training data in double
 * precision. A category feature is BYTES (UTF-8 strings). Missing values: NaN or null for
 * numbers, an empty string or null for categories.
 *
 * Outputs of a classifier: `label` BYTES [-1], `probabilities` FP32 [-1, classes] (columns in the
 * order of the output's `classes` parameter, a JSON array), and `id` BYTES [-1], the prediction
 * ids that feedback refers to. A regression model answers `value` FP64 [-1] and `id`.
 */
import type { Predictor } from '../../ml/bundle.ts';
import type { Target } from '../deployments.ts';

export type Datatype = 'FP32' | 'FP64' | 'BYTES';

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
  parameters?: Record<string, string>;
}

/** A feature as an input tensor: its kind decides the datatypes it takes. */
export interface FeatureInput {
  name: string;
  kind: 'number' | 'category';
}

/** The datatypes accepted per feature kind; the first is the one metadata declares. */
export const ACCEPTED_DATATYPES: Record<FeatureInput['kind'], readonly Datatype[]> = {
  number: ['FP64', 'FP32'],
  category: ['BYTES'],
};

/**
 * The inputs a request must send: every feature of the targets (for an unversioned request, the
 * whole deployment's, so that a request's validity never depends on the routing draw). A feature's
 * kind is the one its first target encodes it as.
 */
export function featureInputs(targets: Target[]): FeatureInput[] {
  return targets[0].features.map((name) => {
    const encoding = targets.flatMap((t) => t.predictor.preprocessor.encodings).find((e) => e.name === name);
    return { name, kind: encoding?.type === 'category' ? 'category' : 'number' };
  });
}

export function outputMetadata(predictor: Predictor): TensorMetadata[] {
  const id: TensorMetadata = { name: 'id', datatype: 'BYTES', shape: [-1] };
  if (predictor.task === 'regression') return [{ name: 'value', datatype: 'FP64', shape: [-1] }, id];
  return [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [-1, predictor.classes.length],
      parameters: { classes: JSON.stringify(predictor.classes) },
    },
    id,
  ];
}

/** The model metadata response; `targets` are the versions asked about, champion first. */
export function modelMetadata(model: string, targets: Target[]) {
  return {
    name: model,
    versions: targets.map((t) => t.version),
    platform: 'perennial_tfjs',
    inputs: featureInputs(targets).map(({ name, kind }): TensorMetadata => ({ name, datatype: ACCEPTED_DATATYPES[kind][0], shape: [-1] })),
    outputs: outputMetadata(targets[0].predictor),
  };
}
