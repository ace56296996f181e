/**
 * `perennial retrain <model> --if-code-changed`: whether the code that trained the champion is
 * the code checked out here (config/source-version.ts), by the training-code hash recorded on
 * the champion's model version. For CI: run it after deploying new workers, and only models
 * whose training code changed are retrained.
 */
import type { MlflowClient } from '../adapters/mlflow/client.ts';
import { SOURCE_TAGS, type SourceVersion } from '../config/source-version.ts';

export interface CodeChange {
  changed: boolean;
  /** Why, in a sentence: printed, and the retrain's reason when it changed. */
  reason: string;
}

const short = (hash: string) => hash.slice(0, 12);

export async function codeChangeSinceChampion(mlflow: MlflowClient, model: string, current: SourceVersion): Promise<CodeChange> {
  const champion = await mlflow.getVersionByAlias(model, 'champion');
  if (!champion) return { changed: true, reason: `${model} has no champion yet` };
  const recorded = champion.tags[SOURCE_TAGS.codeHash] ?? (await mlflow.getRun(champion.runId)).tags[SOURCE_TAGS.codeHash];
  const commit = current.gitCommit
    ? ` (commit ${current.gitCommit.slice(0, 12)}${current.gitDirty ? ', with uncommitted changes' : ''})`
    : '';
  if (!recorded) {
    return {
      changed: true,
      reason: `champion v${champion.version} of ${model} has no recorded training code (trained before Perennial recorded it); current code ${short(current.codeHash)}${commit}`,
    };
  }
  if (recorded === current.codeHash) {
    return {
      changed: false,
      reason: `champion v${champion.version} of ${model} was trained by the current code ${short(recorded)}${commit}`,
    };
  }
  const was = champion.tags[SOURCE_TAGS.gitCommit] ? ` (commit ${champion.tags[SOURCE_TAGS.gitCommit].slice(0, 12)})` : '';
  return {
    changed: true,
    reason: `training code changed since champion v${champion.version} of ${model}: ${short(recorded)}${was} -> ${short(current.codeHash)}${commit}`,
  };
}
