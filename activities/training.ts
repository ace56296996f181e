/**
 * Offline evaluation of the challenger against the champion, and the fixed-candidate training
 * of retrains recorded before AutoML sweeps.
 */
import type { Score } from '../core/promotion.ts';
import type { ModelSpec } from '../core/spec.ts';
import { describeConfig, type TrialConfig } from '../core/search-space.ts';
import { evaluate, loadPredictor } from '../ml/bundle.ts';
import type { ActivityContext } from './context.ts';
import { loadSnapshot, splitSnapshot, type Row } from './data.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import { trainOnRun } from './trials.ts';
import type { RetrainRun, Snapshot } from '../core/contracts.ts';

export interface CandidateResult {
  runId: string;
  description: string;
  valAccuracy: number;
  valLogLoss: number;
  paramCount: number;
}

interface LegacyCandidate {
  hidden: number[];
  activation: string;
  learningRate: number;
  epochs: number;
  batchSize: number;
  l2: number;
}

/** A model on the holdout (core/promotion.ts Score): accuracy and log loss of a classifier, RMSE and MAE of a regression model; null when not measured. */
export interface HoldoutScore extends Score {
  logLoss: number | null;
  mae?: number | null;
}

export function trainingActivities(ctx: ActivityContext) {
  const { mlflow } = ctx;
  return {
    /**
     * Kept for retrains recorded before AutoML sweeps (patch `automl-sweep`): trains one of the
     * spec's fixed candidates as a nested run of the retrain run.
     */
    async trainCandidate(input: { spec: ModelSpec; snapshot: Snapshot; candidateIndex: number; retrainRun: RetrainRun; n: number }): Promise<CandidateResult> {
      const legacy = (input.spec.training as unknown as { candidates: LegacyCandidate[] }).candidates[input.candidateIndex];
      const config: TrialConfig = legacy.hidden.length
        ? { family: 'mlp', params: { depth: legacy.hidden.length, width: legacy.hidden[0], activation: legacy.activation, learningRate: legacy.learningRate, batchSize: legacy.batchSize, l2: legacy.l2 } }
        : { family: 'softmax', params: { learningRate: legacy.learningRate, batchSize: legacy.batchSize, l2: legacy.l2 } };
      const description = describeConfig(config);
      const { run } = await mlflow.findOrCreateRun({
        experimentId: input.retrainRun.experimentId,
        key: `${input.retrainRun.runId}/candidate/${input.candidateIndex}`,
        runName: `retrain-${input.n}-candidate-${input.candidateIndex}`,
        parentRunId: input.retrainRun.runId,
        tags: { 'perennial.model': input.spec.name, 'perennial.kind': 'candidate', 'perennial.description': description },
      });
      // Specs of that time had one training seed, for the split and (offset) for each candidate.
      const splitSeed = (input.spec.training as unknown as { seed: number }).seed;
      // ...and features without a type, which were all numbers.
      const spec = { ...input.spec, features: input.spec.features.map((f) => ({ ...f, type: f.type ?? 'number' })) } as ModelSpec;
      const result = await trainOnRun(ctx, {
        run,
        spec,
        snapshot: input.snapshot,
        config,
        seed: splitSeed + input.candidateIndex,
        splitSeed,
        fromEpoch: 0,
        toEpoch: legacy.epochs,
        heartbeat: { candidate: input.candidateIndex },
      });
      await mlflow.finishRun(run.runId, 'FINISHED');
      return { runId: run.runId, description, valAccuracy: result.valAccuracy, valLogLoss: result.valLogLoss, paramCount: result.paramCount };
    },

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
      const challenger = await scoreOn(await downloadModelFiles(mlflow, challengerRun.artifactUri), holdout, spec);
      let champion: HoldoutScore | undefined;
      if (input.championVersion) {
        const version = await mlflow.getModelVersion(spec.name, input.championVersion);
        const championRun = await mlflow.getRun(version.runId);
        champion = await scoreOn(await downloadModelFiles(mlflow, championRun.artifactUri), holdout, spec);
      }
      // holdout_accuracy_* for a classifier, holdout_rmse_* for a regression model.
      const metric = challenger.rmse !== undefined ? 'rmse' : 'accuracy';
      const point = (who: string, s: HoldoutScore) => ({ key: `holdout_${metric}_${who}`, value: (metric === 'rmse' ? s.rmse : s.accuracy) ?? NaN, step: 0 });
      await mlflow.logBatch(input.retrainRun.runId, {
        metrics: [point('challenger', challenger), ...(champion ? [point('champion', champion)] : [])].filter((m) => Number.isFinite(m.value)),
        params: { 'holdout.rows': holdout.length, 'challenger.run_id': input.challengerRunId },
      });
      return { challenger, champion };
    },
  };
}

async function scoreOn(files: Awaited<ReturnType<typeof downloadModelFiles>>, rows: Row[], spec: ModelSpec): Promise<HoldoutScore> {
  const predictor = await loadPredictor(files);
  try {
    const e = evaluate(predictor, rows, rows.map((r) => String(r[spec.label.name])));
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    if (predictor.task === 'regression') return { n: e.n, accuracy: null, logLoss: null, rmse: finite(e.rmse!), mae: finite(e.mae!) };
    return { n: e.n, accuracy: finite(e.accuracy), logLoss: finite(e.logLoss) };
  } finally {
    predictor.dispose();
  }
}
