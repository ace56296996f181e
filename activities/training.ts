/**
 * Offline evaluation of the challenger against the champion on the holdout: their scores, and
 * each one's permutation importance (activities/importance.ts), logged with the challenger.
 */
import type { Score } from '../core/promotion.ts';
import type { ModelSpec } from '../core/spec.ts';
import { evaluate, loadPredictor } from '../ml/bundle.ts';
import { calibrateOnHoldout } from './cbpe.ts';
import type { ActivityContext } from './context.ts';
import { loadSnapshot, splitSnapshot, type Row } from './data.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import type { RetrainRun, Snapshot } from '../core/contracts.ts';
import type { PermutationImportance } from '../ml/explain/permutation-importance.ts';
import { measureImportance, recordImportance } from './importance.ts';

/** A model on the holdout (core/promotion.ts Score): accuracy and log loss of a classifier, RMSE and MAE of a regression model; null when not measured. */
export interface HoldoutScore extends Score {
  logLoss: number | null;
  mae?: number | null;
}

export function trainingActivities(ctx: ActivityContext) {
  const { mlflow } = ctx;
  return {
    async evaluateChallenger(input: {
      spec: ModelSpec;
      snapshot: Snapshot;
      challengerRunId: string;
      championVersion?: string;
      retrainRun: RetrainRun;
    }): Promise<{ challenger: HoldoutScore; champion?: HoldoutScore }> {
      const { spec } = input;
      const rows = await loadSnapshot(ctx, input.snapshot);
      const { holdout } = splitSnapshot(rows, spec.training.holdoutFraction, spec.training.sweep.seed);
      const challengerRun = await mlflow.getRun(input.challengerRunId);
      const challengerFiles = await downloadModelFiles(mlflow, challengerRun.artifactUri);
      const measured = await scoreOn(challengerFiles, holdout, spec);
      const challenger = measured.score;
      // The champion-to-be's label-free accuracy estimate is calibrated on the holdout it is judged on.
      await calibrateOnHoldout(ctx, { spec, artifactUri: challengerRun.artifactUri, files: challengerFiles, holdout });
      let champion: HoldoutScore | undefined;
      let championImportance: PermutationImportance | undefined;
      if (input.championVersion) {
        const version = await mlflow.getModelVersion(spec.name, input.championVersion);
        const championRun = await mlflow.getRun(version.runId);
        ({ score: champion, importance: championImportance } = await scoreOn(
          await downloadModelFiles(mlflow, championRun.artifactUri),
          holdout,
          spec,
        ));
      }
      if (measured.importance)
        await recordImportance(ctx, {
          model: spec.name,
          challenger: { ...challengerRun, name: 'challenger', importance: measured.importance },
          champion: championImportance && { name: `champion v${input.championVersion}`, importance: championImportance },
          retrainRun: input.retrainRun,
        });
      // holdout_accuracy_* for a classifier, holdout_rmse_* for a regression model.
      const metric = challenger.rmse !== undefined ? 'rmse' : 'accuracy';
      const point = (who: string, s: HoldoutScore) => ({
        key: `holdout_${metric}_${who}`,
        value: (metric === 'rmse' ? s.rmse : s.accuracy) ?? NaN,
        step: 0,
      });
      await mlflow.logBatch(input.retrainRun.runId, {
        metrics: [point('challenger', challenger), ...(champion ? [point('champion', champion)] : [])].filter((m) =>
          Number.isFinite(m.value),
        ),
        params: { 'holdout.rows': holdout.length, 'challenger.run_id': input.challengerRunId },
      });
      return { challenger, champion };
    },
  };
}

/** A model's holdout score and permutation importance. */
async function scoreOn(
  files: Awaited<ReturnType<typeof downloadModelFiles>>,
  rows: Row[],
  spec: ModelSpec,
): Promise<{ score: HoldoutScore; importance?: PermutationImportance }> {
  const predictor = await loadPredictor(files);
  try {
    const e = evaluate(
      predictor,
      rows,
      rows.map((r) => String(r[spec.label.name])),
    );
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    const score: HoldoutScore =
      predictor.task === 'regression'
        ? { n: e.n, accuracy: null, logLoss: null, rmse: finite(e.rmse!), mae: finite(e.mae!) }
        : { n: e.n, accuracy: finite(e.accuracy), logLoss: finite(e.logLoss) };
    return { score, importance: measureImportance(predictor, rows, spec.label.name, spec.training.sweep.seed) };
  } finally {
    predictor.dispose();
  }
}
