/**
 * What a warm-start trial (core/warm-start.ts) continues: the champion's model configuration and
 * model files, found through the MLflow registry (version -> the run that trained it).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { MlflowClient } from '../adapters/mlflow/client.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import type { MlflowRun } from '../adapters/mlflow/schemas.ts';
import type { ModelFiles } from '../core/contracts.ts';
import { FAMILIES, FAMILY_PARAMS, type Family, type ModelConfig, type TrialConfig } from '../core/search-space.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression, labelClasses } from '../core/spec-reading.ts';
import { fineTunedConfig } from '../core/warm-start.ts';
import { preprocessorOf } from '../ml/train.ts';

/** A trial run's model configuration as JSON (a warm start's is the champion's, fine-tuned). */
export const MODEL_CONFIG_TAG = 'perennial.model_config';
/** On a warm-start trial's run: "v<N>", the champion version it continued. */
export const WARM_START_TAG = 'perennial.warm_start_from';

/** The model configuration a trial run trained: its tag, or (runs from before the tag) its params. */
export function modelConfigOf(run: Pick<MlflowRun, 'tags' | 'params'>): ModelConfig | undefined {
  const tagged = run.tags[MODEL_CONFIG_TAG];
  if (tagged) return JSON.parse(tagged) as ModelConfig;
  const family = run.params.family as Family;
  if (!FAMILIES.includes(family)) return undefined;
  // Params are text; resolveConfig (ml/model.ts) reads numeric text as numbers.
  return { family, params: Object.fromEntries(FAMILY_PARAMS[family].filter((p) => p in run.params).map((p) => [p, run.params[p]])) };
}

/**
 * The model a warm-start trial trains (the champion's configuration with the trial's settings) and,
 * for its first rung, the champion's model files to start from. A champion that cannot be
 * continued (unknown configuration, other features or classes than the spec now has) fails the
 * trial without retries: retrying cannot change it.
 */
export async function warmStartOf(
  mlflow: MlflowClient,
  spec: ModelSpec,
  trial: TrialConfig & { from: string },
  withFiles: boolean,
): Promise<{ config: ModelConfig; files?: ModelFiles }> {
  const version = await mlflow.getModelVersion(spec.name, trial.from);
  const run = await mlflow.getRun(version.runId);
  const champion = modelConfigOf(run);
  if (!champion) {
    throw ApplicationFailure.nonRetryable(
      `cannot warm-start from v${trial.from}: its run ${run.runId} records no model configuration`,
      'WarmStartImpossible',
    );
  }
  const config = fineTunedConfig(champion, trial);
  if (!withFiles) return { config };
  const files = await downloadModelFiles(mlflow, run.artifactUri);
  try {
    preprocessorOf(
      files,
      { features: spec.features, classes: labelClasses(spec.label), labelType: isRegression(spec.label) ? 'number' : 'category' },
      `v${trial.from}`,
    );
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`cannot warm-start: ${(err as Error).message}`, 'WarmStartImpossible');
  }
  return { config, files };
}
