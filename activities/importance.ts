/**
 * Permutation importance per model version, measured where the retrain scores the challenger and
 * the champion on the holdout (activities/training.ts evaluateChallenger): the challenger's is
 * logged on its run (the run its version is registered from) as metrics `importance.<feature>`,
 * with a chart of challenger against champion (`importance/permutation.svg` and its Vega-Lite
 * spec) and the numbers of both (`importance/permutation.json`, also on the retrain run).
 *
 * A retried attempt writes the same points: the metrics carry the challenger run's start time as
 * their timestamp, so MLflow keeps one point per feature, and the artifacts are overwritten.
 */
import { renderChart } from '../adapters/charts/render.ts';
import { featureImportanceChart } from '../adapters/charts/feature-importance.ts';
import type { RetrainRun } from '../core/contracts.ts';
import type { Predictor } from '../ml/bundle.ts';
import { predictorImportance, type PermutationImportance } from '../ml/explain/permutation-importance.ts';
import type { ActivityContext } from './context.ts';
import type { Row } from './data.ts';

/** Holdout rows measured (the first ones): every feature costs `REPEATS` predictions of them per model. */
export const IMPORTANCE_ROWS = 2000;
export const IMPORTANCE_REPEATS = 3;
export const IMPORTANCE_DIR = 'importance';

export interface Contender {
  predictor: Predictor;
  /** How the chart and the JSON name it: `challenger (run …)`, `champion v3`. */
  name: string;
}

/** Undefined for a holdout too small to shuffle (fewer than 2 rows). */
export function measureImportance(
  predictor: Predictor,
  holdout: readonly Row[],
  label: string,
  seed: number,
): PermutationImportance | undefined {
  const rows = holdout.slice(0, IMPORTANCE_ROWS);
  if (rows.length < 2) return undefined;
  return predictorImportance(
    predictor,
    rows,
    rows.map((r) => String(r[label])),
    { repeats: IMPORTANCE_REPEATS, seed },
  );
}

/** A feature name as an MLflow metric key segment: characters MLflow refuses become `_`. */
export function importanceMetricKey(feature: string): string {
  return `importance.${feature.replace(/[^\p{L}\p{N}_\-. :]/gu, '_')}`;
}

export async function recordImportance(
  ctx: ActivityContext,
  input: {
    model: string;
    challenger: { runId: string; artifactUri: string; startTime: number; name: string; importance: PermutationImportance };
    champion?: { name: string; importance: PermutationImportance };
    retrainRun: RetrainRun;
  },
): Promise<void> {
  const { mlflow } = ctx;
  const { challenger, champion } = input;
  const measured = challenger.importance;
  const comparison = {
    metric: measured.metric,
    loss: measured.metric === 'accuracy' ? 'accuracy lost when the feature is shuffled' : 'RMSE gained when the feature is shuffled',
    rows: measured.rows,
    repeats: measured.repeats,
    seed: measured.seed,
    challenger: { name: challenger.name, runId: challenger.runId, baseline: measured.baseline, features: measured.features },
    champion: champion ? { name: champion.name, baseline: champion.importance.baseline, features: champion.importance.features } : null,
  };
  const order = [...measured.features].sort((a, b) => b.mean - a.mean).map((f) => f.feature);
  const contenders = [challenger, ...(champion ? [champion] : [])];
  const chart = await renderChart(
    featureImportanceChart({
      title: `${input.model}: permutation importance on the holdout`,
      subtitle: `${comparison.loss} (${measured.rows} rows, ${measured.repeats} repeats)`,
      measure: measured.metric === 'accuracy' ? 'accuracy lost' : 'RMSE gained',
      features: order,
      models: contenders.map((c) => c.name),
      bars: contenders.flatMap((c) => c.importance.features.map((f) => ({ feature: f.feature, model: c.name, mean: f.mean, std: f.std }))),
    }),
  );
  const json = JSON.stringify(comparison, null, 2);
  await mlflow.uploadArtifact(challenger.artifactUri, `${IMPORTANCE_DIR}/permutation.json`, json, 'application/json');
  await mlflow.uploadArtifact(challenger.artifactUri, `${IMPORTANCE_DIR}/permutation.svg`, chart.svg, 'image/svg+xml');
  await mlflow.uploadArtifact(
    challenger.artifactUri,
    `${IMPORTANCE_DIR}/permutation.vl.json`,
    JSON.stringify(chart.spec, null, 2),
    'application/json',
  );
  await mlflow.uploadArtifact(input.retrainRun.artifactUri, `${IMPORTANCE_DIR}/permutation.json`, json, 'application/json');
  await mlflow.logBatch(challenger.runId, {
    metrics: measured.features.map((f) => ({
      key: importanceMetricKey(f.feature),
      value: f.mean,
      step: 0,
      timestamp: challenger.startTime,
    })),
  });
}
