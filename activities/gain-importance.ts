/**
 * A gbdt trial's feature importance by gain (the split gain its trees earned on each feature),
 * logged on the trial's run as `importance/gain.json` and a chart, `importance/gain.svg` (its
 * Vega-Lite spec beside it). Networks have no gain; permutation importance (activities/importance.ts)
 * covers every family.
 */
import type { MlflowClient, MlflowRun } from '../adapters/mlflow/client.ts';
import { featureImportanceChart } from '../adapters/charts/feature-importance.ts';
import { renderChart } from '../adapters/charts/render.ts';
import type { ModelFiles } from '../core/contracts.ts';
import { decodeJson, PREPROCESS_JSON } from '../ml/bundle-format.ts';
import { featureGroups, sumByGroup } from '../ml/explain/feature-groups.ts';
import { gainImportance } from '../ml/gbdt/booster.ts';
import { isGbdtModel, readBooster } from '../ml/gbdt/model-files.ts';
import { upgradePreprocessor } from '../ml/preprocess.ts';
import { IMPORTANCE_DIR } from './importance.ts';

export async function logGainImportance(
  mlflow: MlflowClient,
  run: MlflowRun,
  files: ModelFiles,
): Promise<Record<string, number> | undefined> {
  if (!isGbdtModel(files)) return undefined;
  const groups = featureGroups(upgradePreprocessor(decodeJson<unknown>(files[PREPROCESS_JSON])));
  const sums = sumByGroup(gainImportance(readBooster(files).ensemble), groups);
  const gain = Object.fromEntries(groups.map((g, i) => [g.name, sums[i]] as const).sort(([, a], [, b]) => b - a));
  const chart = await renderChart(
    featureImportanceChart({
      title: `${run.runName}: feature importance by gain`,
      measure: 'total split gain',
      features: Object.keys(gain),
      models: [run.runName],
      bars: Object.entries(gain).map(([feature, mean]) => ({ feature, model: run.runName, mean, std: 0 })),
    }),
  );
  const put = (name: string, body: string, type: string) => mlflow.uploadArtifact(run.artifactUri, `${IMPORTANCE_DIR}/${name}`, body, type);
  await put('gain.json', JSON.stringify(gain, null, 2), 'application/json');
  await put('gain.vl.json', JSON.stringify(chart.spec, null, 2), 'application/json');
  await put('gain.svg', chart.svg, 'image/svg+xml');
  return gain;
}
