/**
 * The reference profile saved with a registered model version (profile.json in its model
 * files): what monitoring compares production with. Cached per version; a version's files
 * never change.
 */
import type { ActivityContext } from './context.ts';
import { MODEL_DIR } from '../adapters/mlflow/model-files.ts';
import type { ReferenceProfile } from '../core/profile.ts';

export function profileCache(ctx: ActivityContext) {
  const profiles = new Map<string, ReferenceProfile>();
  return async function championProfile(model: string, version: string): Promise<ReferenceProfile> {
    const key = `${model}@${version}`;
    if (!profiles.has(key)) {
      const mv = await ctx.mlflow.getModelVersion(model, version);
      const run = await ctx.mlflow.getRun(mv.runId);
      const bytes = await ctx.mlflow.downloadArtifact(run.artifactUri, `${MODEL_DIR}/profile.json`);
      profiles.set(key, JSON.parse(Buffer.from(bytes).toString('utf8')));
    }
    return profiles.get(key)!;
  };
}
