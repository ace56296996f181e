/**
 * MLflow dataset inputs: a run's training data named, hashed and described, so the MLflow UI's
 * Dataset column and lineage read dataset -> run -> logged model -> version. MlflowClient's
 * `logDatasetInputs`; `snapshotDataset` describes a retrain's snapshot as one.
 */
import type { MlflowHttp } from './http.ts';
import { modelSignature } from './mlmodel.ts';
import { isRegression } from '../../core/spec-reading.ts';
import type { Snapshot } from '../../core/contracts.ts';
import type { ModelSpec } from '../../core/spec.ts';

export interface DatasetInput {
  name: string;
  /** MLflow shows it as the dataset's version; the same digest is the same data. */
  digest: string;
  sourceType: string;
  /** JSON: where the data can be read again. */
  source: string;
  /** JSON: `{"mlflow_colspec": [...]}`. */
  schema: string;
  /** JSON: counts that describe it. */
  profile: string;
  /** `training`, `evaluation`, ... (the input's `mlflow.data.context` tag). */
  context: string;
}

/**
 * Logging a dataset twice on a run is a no-op in MLflow (same name and digest), so this is
 * idempotent as it is.
 */
export async function logDatasetInputs(http: MlflowHttp, runId: string, inputs: DatasetInput[]): Promise<void> {
  await http.send('POST', '/mlflow/runs/log-inputs', {
    json: {
      run_id: runId,
      datasets: inputs.map((d) => ({
        tags: [{ key: 'mlflow.data.context', value: d.context }],
        dataset: { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source, schema: d.schema, profile: d.profile },
      })),
    },
  });
}

/** A retrain's training snapshot as a dataset: digest = its content hash (sha256 of the rows as stored). */
export function snapshotDataset(spec: ModelSpec, snapshot: Snapshot, context = 'training'): DatasetInput {
  const label = isRegression(spec.label)
    ? { type: 'double', name: spec.label.name, required: true }
    : { type: 'string', name: spec.label.name, required: true };
  return {
    name: `${spec.name}-training-window`,
    // MLflow's own digests are 8 hex characters; the full hash stays in the source and params.
    digest: snapshot.hash.slice(0, 8),
    sourceType: 'perennial',
    source: JSON.stringify({
      uri: `${snapshot.artifactUri}/${snapshot.path}`,
      sha256: snapshot.hash,
      window: spec.training.window,
      maxRecordId: snapshot.maxRecordId,
    }),
    schema: JSON.stringify({ mlflow_colspec: [...modelSignature(spec).inputs, label] }),
    profile: JSON.stringify({
      num_rows: snapshot.rows,
      num_elements: snapshot.rows * (spec.features.length + 1),
      ...(Object.keys(snapshot.classCounts).length ? { class_counts: snapshot.classCounts } : {}),
    }),
    context,
  };
}
