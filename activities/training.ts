/**
 * Training and offline evaluation. Each candidate is a nested MLflow run of the retrain run;
 * the CPU-bound fit runs in a worker thread so this activity keeps heartbeating and can be
 * cancelled.
 */
import { Context } from '@temporalio/activity';
import type { ModelSpec } from '../core/spec.ts';
import { trainInThread } from '../ml/train.ts';
import { evaluate, loadPredictor } from '../ml/bundle.ts';
import type { ActivityContext } from './context.ts';
import { loadSnapshot, splitSnapshot, type Row, type Snapshot } from './data.ts';
import { downloadModelFiles, uploadModelFiles } from './mlflow/model-files.ts';
import type { RetrainRun } from './tracking.ts';

export interface CandidateResult {
  runId: string;
  description: string;
  valAccuracy: number;
  valLogLoss: number;
  paramCount: number;
}

export interface HoldoutScore {
  accuracy: number;
  logLoss: number;
  n: number;
}

export function trainingActivities(ctx: ActivityContext) {
  const { mlflow } = ctx;
  return {
    async trainCandidate(input: { spec: ModelSpec; snapshot: Snapshot; candidateIndex: number; retrainRun: RetrainRun; n: number }): Promise<CandidateResult> {
      const { spec, candidateIndex } = input;
      const candidate = spec.training.candidates[candidateIndex];
      const description = candidate.family === 'softmax' ? 'softmax regression' : `mlp ${candidate.hidden.join('x')} ${candidate.activation}`;
      const { run } = await mlflow.findOrCreateRun({
        experimentId: input.retrainRun.experimentId,
        key: `${input.retrainRun.runId}/candidate/${candidateIndex}`,
        runName: `retrain-${input.n}-candidate-${candidateIndex}`,
        parentRunId: input.retrainRun.runId,
        tags: { 'perennial.model': spec.name, 'perennial.kind': 'candidate', 'perennial.description': description },
      });
      // A retried activity whose first attempt finished reuses that result: no second model.
      if (run.status === 'FINISHED' && run.metrics.final_val_accuracy !== undefined) {
        return { runId: run.runId, description, valAccuracy: run.metrics.final_val_accuracy, valLogLoss: run.metrics.final_val_log_loss, paramCount: run.metrics.param_count };
      }

      const rows = await loadSnapshot(ctx, input.snapshot);
      const { train, validation } = splitSnapshot(rows, spec.training.holdoutFraction, spec.training.seed);
      const features = spec.features.map((f) => f.name);
      const activity = Context.current();
      // Deterministic timestamps: a retry logs identical metric points, which MLflow dedupes.
      const epochTime = (epoch: number) => run.startTime + epoch;
      let pending: Promise<void> = Promise.resolve();
      const result = await trainInThread(
        {
          candidate,
          features,
          classes: spec.label.classes,
          train: asLabelled(train, spec),
          validation: asLabelled(validation, spec),
          seed: spec.training.seed + candidateIndex,
        },
        (e) => {
          activity.heartbeat({ epoch: e.epoch, valAccuracy: e.valAccuracy });
          pending = pending.then(() =>
            mlflow.logBatch(run.runId, {
              metrics: [
                { key: 'loss', value: e.loss, step: e.epoch, timestamp: epochTime(e.epoch) },
                { key: 'accuracy', value: e.accuracy, step: e.epoch, timestamp: epochTime(e.epoch) },
                { key: 'val_loss', value: e.valLoss, step: e.epoch, timestamp: epochTime(e.epoch) },
                { key: 'val_accuracy', value: e.valAccuracy, step: e.epoch, timestamp: epochTime(e.epoch) },
              ],
            }),
          );
        },
        activity.cancellationSignal,
      );
      await pending;
      await uploadModelFiles(mlflow, run.artifactUri, result.files);
      await mlflow.logBatch(run.runId, {
        params: {
          family: candidate.family,
          hidden: candidate.hidden.join(',') || 'none',
          activation: candidate.activation,
          learning_rate: candidate.learningRate,
          epochs: candidate.epochs,
          batch_size: candidate.batchSize,
          l2: candidate.l2,
          seed: spec.training.seed + candidateIndex,
          'data.sha256': input.snapshot.hash,
          'data.train_rows': train.length,
          'data.validation_rows': validation.length,
        },
        metrics: [
          { key: 'final_val_accuracy', value: result.valAccuracy, step: 0, timestamp: epochTime(0) },
          { key: 'final_val_log_loss', value: result.valLogLoss, step: 0, timestamp: epochTime(0) },
          { key: 'param_count', value: result.paramCount, step: 0, timestamp: epochTime(0) },
          { key: 'train_ms', value: result.trainMs, step: 0, timestamp: epochTime(0) },
        ],
        tags: { 'perennial.backend': result.backend },
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
      const { holdout } = splitSnapshot(rows, spec.training.holdoutFraction, spec.training.seed);
      const challengerRun = await mlflow.getRun(input.challengerRunId);
      const challenger = await scoreOn(await downloadModelFiles(mlflow, challengerRun.artifactUri), holdout, spec);
      let champion: HoldoutScore | undefined;
      if (input.championVersion) {
        const version = await mlflow.getModelVersion(spec.name, input.championVersion);
        const championRun = await mlflow.getRun(version.runId);
        champion = await scoreOn(await downloadModelFiles(mlflow, championRun.artifactUri), holdout, spec);
      }
      await mlflow.logBatch(input.retrainRun.runId, {
        metrics: [
          { key: 'holdout_accuracy_challenger', value: challenger.accuracy, step: 0 },
          ...(champion ? [{ key: 'holdout_accuracy_champion', value: champion.accuracy, step: 0 }] : []),
        ],
        params: { 'holdout.rows': holdout.length, 'challenger.run_id': input.challengerRunId },
      });
      return { challenger, champion };
    },
  };
}

function asLabelled(rows: Row[], spec: ModelSpec) {
  return { rows, labels: rows.map((r) => String(r[spec.label.name])) };
}

async function scoreOn(files: Awaited<ReturnType<typeof downloadModelFiles>>, rows: Row[], spec: ModelSpec): Promise<HoldoutScore> {
  const predictor = await loadPredictor(files);
  try {
    const { accuracy, logLoss, n } = evaluate(predictor, rows, rows.map((r) => String(r[spec.label.name])));
    return { accuracy, logLoss, n };
  } finally {
    predictor.dispose();
  }
}
