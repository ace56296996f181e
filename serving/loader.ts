/**
 * Loads registered model versions from MLflow: the version names its run, whose artifacts hold
 * the model files under `model/`.
 */
import { MlflowError, type MlflowClient } from '../adapters/mlflow/client.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import { loadPredictor } from '../ml/bundle.ts';
import type { ModelLoader } from './deployments.ts';
import { ModelVersionNotFoundError } from '../core/errors.ts';
import type { ModelFiles } from '../core/contracts.ts';

/**
 * Caches the downloaded files by model and version (a registered version never changes), not
 * predictors: the server disposes a predictor when its version leaves service, so each call
 * builds a fresh one that the caller owns.
 */
export function mlflowModelLoader(client: MlflowClient): ModelLoader {
  const files = new Map<string, Promise<ModelFiles>>();
  return async (model, version) => {
    const key = `${model}@${version}`;
    let pending = files.get(key);
    if (!pending) {
      pending = downloadVersion(client, model, version);
      files.set(key, pending);
      // A failure (registry down, version not yet registered) is retried on the next call.
      pending.catch(() => files.delete(key));
    }
    return loadPredictor(await pending);
  };
}

async function downloadVersion(client: MlflowClient, model: string, version: string): Promise<ModelFiles> {
  const registered = await client.getModelVersion(model, version).catch((err: unknown) => {
    if (err instanceof MlflowError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST')) {
      throw new ModelVersionNotFoundError(model, version);
    }
    throw err;
  });
  if (registered.status !== 'READY') {
    throw new Error(`model ${model} version ${version} is ${registered.status}, not READY`);
  }
  const run = await client.getRun(registered.runId);
  return downloadModelFiles(client, run.artifactUri);
}
