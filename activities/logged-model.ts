/**
 * A trial's model as an MLflow 3 logged model: its files (ml/bundle.ts), an `MLmodel` with the
 * signature and an input example, linked to the trial's run as an output. Registered versions
 * point at it (`models:/<id>`), so MLflow's own tools read the champion's schema and example.
 *
 * The serving files stay where they always were too (`model/` of the trial's run): the model
 * server, warm starts and evaluations read them there, including for versions registered before
 * logged models existed.
 */
import type { MlflowClient, MlflowRun } from '../adapters/mlflow/client.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import { inputExampleFiles, inputExampleRow, MLMODEL, mlmodelYaml } from '../adapters/mlflow/mlmodel.ts';
import { currentSourceVersion, sourceTagsOf } from '../config/source-version.ts';
import type { ReferenceProfile } from '../core/profile.ts';
import type { ModelSpec } from '../core/spec.ts';
import { MODEL_FILE_NAMES, PROFILE_JSON } from '../ml/bundle.ts';
import { GBDT_FORMAT, isGbdtModel } from '../ml/gbdt/model-files.ts';
import { logGainImportance } from './gain-importance.ts';

/** The run tag naming the trial's logged model. */
export const LOGGED_MODEL_TAG = 'perennial.logged_model_id';

export async function logTrialModel(mlflow: MlflowClient, spec: ModelSpec, run: MlflowRun, epochs: number): Promise<string> {
  const { model, created } = await mlflow.findOrCreateLoggedModel({
    experimentId: run.experimentId,
    key: run.runId,
    name: `${spec.name}-${run.runName.trim().replace(/\s+/g, '-')}`,
    modelType: 'perennial',
    sourceRunId: run.runId,
    params: run.params,
    // The code that trained it, as recorded on its run (a retry may run on another worker).
    tags: { 'perennial.model': spec.name, ...sourceTagsOf(run.tags) },
  });
  if (created || model.status !== 'LOGGED_MODEL_READY') {
    const files = await downloadModelFiles(mlflow, run.artifactUri);
    const profile = JSON.parse(new TextDecoder().decode(files[PROFILE_JSON])) as ReferenceProfile;
    for (const name of MODEL_FILE_NAMES) await mlflow.uploadArtifact(model.artifactUri, name, files[name]);
    await logGainImportance(mlflow, run, files);
    for (const [name, body] of Object.entries(inputExampleFiles(spec, inputExampleRow(spec, profile)))) {
      await mlflow.uploadArtifact(model.artifactUri, name, body, 'application/json');
    }
    const mlmodel = mlmodelYaml({
      spec,
      modelId: model.modelId,
      runId: run.runId,
      createdAt: model.creationTime,
      flavor: {
        format: isGbdtModel(files) ? GBDT_FORMAT : 'tfjs-layers',
        backend: run.tags['perennial.backend'] ?? 'unknown',
        family: run.params.family ?? 'unknown',
        files: [...MODEL_FILE_NAMES],
        perennialVersion: currentSourceVersion().packageVersion,
      },
    });
    // Last: a model whose MLmodel is there has all its files.
    await mlflow.uploadArtifact(model.artifactUri, MLMODEL, mlmodel, 'text/yaml');
    await mlflow.finalizeLoggedModel(model.modelId);
  }
  await mlflow.logModelOutput(run.runId, model.modelId, epochs);
  await mlflow.setTag(run.runId, LOGGED_MODEL_TAG, model.modelId);
  return model.modelId;
}
