/**
 * Where a trained model lives in MLflow: the files of `ml/bundle.ts` under `model/` in the
 * artifacts of the run that trained it. A registered version's source points at that folder.
 */
import type { MlflowClient } from './client.ts';
import type { ModelFiles } from '../../core/contracts.ts';

export const MODEL_DIR = 'model';
const FILES = ['model.json', 'weights.bin', 'preprocess.json', 'profile.json'];

export async function uploadModelFiles(mlflow: MlflowClient, artifactUri: string, files: ModelFiles): Promise<void> {
  for (const name of FILES) {
    if (!files[name]) throw new Error(`model files lack ${name}`);
    await mlflow.uploadArtifact(artifactUri, `${MODEL_DIR}/${name}`, files[name]);
  }
}

export async function downloadModelFiles(mlflow: MlflowClient, artifactUri: string): Promise<ModelFiles> {
  const entries = await Promise.all(
    FILES.map(async (name) => [name, await mlflow.downloadArtifact(artifactUri, `${MODEL_DIR}/${name}`)] as const),
  );
  return Object.fromEntries(entries);
}

export const experimentName = (model: string) => `perennial/${model}`;
