/**
 * The `MLmodel` file of a logged model, in the format MLflow's own `mlflow.models.Model` writes
 * and reads (checked against MLflow 3.17's output): flavors, signature, input example, ids. With
 * it, `mlflow.models.get_model_info("models:/<name>@champion")` reads the schema and example,
 * and the UI shows the schema on the model-version page.
 *
 * The `perennial` flavor names the files of ml/bundle.ts; MLflow cannot load it as a Python
 * function (it is served by Perennial's model server), but every MLflow tool that reads model
 * metadata can.
 */
import { stringify } from 'yaml';
import type { ModelSpec } from '../../core/spec.ts';
import type { ReferenceProfile } from '../../core/profile.ts';
import { isRegression } from '../../core/spec-reading.ts';

export const MLMODEL = 'MLmodel';
export const INPUT_EXAMPLE = 'input_example.json';
export const SERVING_INPUT_EXAMPLE = 'serving_input_example.json';

/** One column of an MLflow schema ("colspec"). */
export interface ColumnSpec {
  type: 'double' | 'string' | 'map';
  name: string;
  required: boolean;
  /** A map column's value type. */
  values?: { type: 'double' };
}

/** Inputs: one column per spec feature; outputs: what the model server answers per row. */
export function modelSignature(spec: ModelSpec): { inputs: ColumnSpec[]; outputs: ColumnSpec[] } {
  const inputs = spec.features.map((f): ColumnSpec => ({
    type: f.type === 'category' ? 'string' : 'double',
    name: f.name,
    required: true,
  }));
  const outputs: ColumnSpec[] = isRegression(spec.label)
    ? [{ type: 'double', name: 'value', required: true }]
    : [
        { type: 'string', name: 'label', required: true },
        { type: 'map', name: 'probabilities', required: true, values: { type: 'double' } },
      ];
  return { inputs, outputs };
}

/**
 * A typical row of the training data, from the model's profile: each number feature's median,
 * each category feature's most frequent value. Made up from aggregates, so no production or
 * training record is copied into MLflow.
 */
export function inputExampleRow(spec: ModelSpec, profile: ReferenceProfile): Array<number | string> {
  return spec.features.map((f) => {
    const p = profile.features[f.name];
    if (f.type === 'category') {
      const counts = Object.entries(p?.counts ?? {}).sort(([, a], [, b]) => b - a);
      return counts[0]?.[0] ?? f.values[0];
    }
    if (!p || p.sample.length === 0) return f.min ?? 0;
    return p.sample[Math.floor((p.sample.length - 1) / 2)];
  });
}

/** `input_example.json` (a pandas "split" frame) and `serving_input_example.json` (the scoring request MLflow would send). */
export function inputExampleFiles(spec: ModelSpec, row: Array<number | string>): Record<string, string> {
  const frame = { columns: spec.features.map((f) => f.name), data: [row] };
  return {
    [INPUT_EXAMPLE]: JSON.stringify(frame),
    [SERVING_INPUT_EXAMPLE]: JSON.stringify({ dataframe_split: frame }, null, 2),
  };
}

export interface MlmodelInput {
  spec: ModelSpec;
  modelId: string;
  runId: string;
  /** When the logged model was created: the file is the same whenever it is written. */
  createdAt: number;
  /** The `perennial` flavor: how to load the files. */
  flavor: { format: string; backend: string; family: string; files: string[]; perennialVersion: string };
}

export function mlmodelYaml(input: MlmodelInput): string {
  const signature = modelSignature(input.spec);
  return stringify(
    {
      artifact_path: '',
      flavors: {
        perennial: {
          format: input.flavor.format,
          backend: input.flavor.backend,
          family: input.flavor.family,
          files: input.flavor.files,
          perennial_version: input.flavor.perennialVersion,
          served_by: 'Perennial model server: POST /v1/models/<name>/predict or the Open Inference Protocol /v2',
        },
      },
      model_id: input.modelId,
      model_uuid: input.modelId,
      run_id: input.runId,
      saved_input_example_info: {
        artifact_path: INPUT_EXAMPLE,
        pandas_orient: 'split',
        serving_input_path: SERVING_INPUT_EXAMPLE,
        type: 'dataframe',
      },
      // MLflow keeps the schemas as JSON strings inside the YAML.
      signature: { inputs: JSON.stringify(signature.inputs), outputs: JSON.stringify(signature.outputs), params: null },
      utc_time_created: new Date(input.createdAt).toISOString().replace('T', ' ').replace('Z', '000'),
    },
    { lineWidth: 0 },
  );
}
