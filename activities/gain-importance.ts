/**
 * A gbdt trial's feature importance by gain (the split gain its trees earned on each feature),
 * logged on the trial's run as `importance/gain.json` and a chart, `importance/gain.svg` (its
 * Vega-Lite spec beside it). Networks have no gain; permutation importance covers every family.
 */
import type { MlflowClient, MlflowRun } from '../adapters/mlflow/client.ts';
import { featureImportanceChart } from '../adapters/charts/feature-importance.ts';
import { renderChart } from '../adapters/charts/render.ts';
import type { ModelFiles } from '../core/contracts.ts';
import { decodeJson, PREPROCESS_JSON } from '../ml/bundle-format.ts';
import { perFeature } from '../ml/feature-columns.ts';
import { gainImportance } from '../ml/gbdt/booster.ts';
import { isGbdtModel, readBooster } from '../ml/gbdt/model-files.ts';
import { upgradePreprocessor } from '../ml/preprocess.ts';

export async function logGainImportance(
  mlflow: MlflowClient,
  run: MlflowRun,
  files: ModelFiles,
): Promise<Record<string, number> | undefined> {
  if (!isGbdtModel(files)) return undefined;
  const pre = upgradePreprocessor(decodeJson<unknown>(files[PREPROCESS_JSON]));
  const gain = perFeature(pre, gainImportance(readBooster(files).ensemble));
  const sorted = Object.fromEntries(Object.entries(gain).sort(([, a], [, b]) => b - a));
  const chart = await renderChart(
    featureImportanceChart({ title: `${run.runName}: feature importance by gain`, measure: 'total split gain', importances: sorted }),
  );
  await mlflow.uploadArtifact(run.artifactUri, 'importance/gain.json', JSON.stringify(sorted, null, 2), 'application/json');
  await mlflow.uploadArtifact(run.artifactUri, 'importance/gain.vl.json', JSON.stringify(chart.spec, null, 2), 'application/json');
  await mlflow.uploadArtifact(run.artifactUri, 'importance/gain.svg', chart.svg, 'image/svg+xml');
  return sorted;
}
