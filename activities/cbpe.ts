/**
 * The label-free accuracy estimate's calibration (core/estimation/champion-estimate.ts): fitted
 * when a classifier challenger is evaluated, on the same holdout, and stored as `cbpe.json` at
 * the root of the challenger's MLflow run. The registered version points at that run, so
 * monitoring finds the calibration of any version (a champion, or one rolled back to) the way it
 * finds its profile, and it lives and is copied with the run's other artifacts. A table in the
 * Store would need a migration and would be keyed by a version number that only exists after
 * registration, while the calibration exists before.
 */
import { CBPE_ARTIFACT, cbpeArtifact, readCbpeArtifact, type CbpeArtifact } from '../core/estimation/champion-estimate.ts';
import type { ModelFiles } from '../core/contracts.ts';
import type { ModelSpec } from '../core/spec.ts';
import { loadPredictor } from '../ml/bundle.ts';
import type { ActivityContext } from './context.ts';
import type { Row } from './data.ts';

/**
 * Fits the calibration of a classifier on its holdout and uploads it to its run (overwriting: a
 * retried evaluation writes the same file). Undefined for a regression model, or a holdout with
 * no row of a known class.
 */
export async function calibrateOnHoldout(
  ctx: ActivityContext,
  input: { spec: ModelSpec; artifactUri: string; files: ModelFiles; holdout: Row[] },
): Promise<CbpeArtifact | undefined> {
  const predictor = await loadPredictor(input.files);
  try {
    if (predictor.task === 'regression') return undefined;
    const labels = input.holdout.map((r) => String(r[input.spec.label.name]));
    let artifact: CbpeArtifact;
    try {
      artifact = cbpeArtifact(predictor.classes, predictor.probabilities(input.holdout), labels);
    } catch (err) {
      if (err instanceof RangeError) return undefined;
      throw err;
    }
    await ctx.mlflow.uploadArtifact(input.artifactUri, CBPE_ARTIFACT, JSON.stringify(artifact), 'application/json');
    return artifact;
  } finally {
    predictor.dispose();
  }
}

/**
 * A model version's calibration, or undefined when its run has none (trained before CBPE, or a
 * regression model). Found ones are cached: a version's run is not rewritten once registered.
 */
export function cbpeCache(ctx: ActivityContext) {
  const found = new Map<string, CbpeArtifact>();
  return async function calibrationOf(model: string, version: string): Promise<CbpeArtifact | undefined> {
    const key = `${model}@${version}`;
    if (!found.has(key)) {
      const mv = await ctx.mlflow.getModelVersion(model, version);
      const { artifactUri } = await ctx.mlflow.getRun(mv.runId);
      // Listed first: a missing artifact is an expected answer, not an error to tell from others.
      const root = await ctx.mlflow.listArtifacts(artifactUri);
      if (!root.some((entry) => entry.path === CBPE_ARTIFACT)) return undefined;
      const bytes = await ctx.mlflow.downloadArtifact(artifactUri, CBPE_ARTIFACT);
      found.set(key, readCbpeArtifact(Buffer.from(bytes).toString('utf8')));
    }
    return found.get(key);
  };
}
