/**
 * The activities of a sweep: its MLflow parent run, one rung of one trial (training from the
 * previous rung's checkpoint in a worker thread), closing a trial, and the sweep's report.
 * A trial is a nested MLflow run of the sweep run, keyed so that retries reuse it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { WARM_START, type ModelConfig } from '../core/search-space.ts';
import { scratchConfig } from '../core/warm-start.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression, labelClasses } from '../core/spec-reading.ts';
import type { EpochMetrics, TrainResult } from '../ml/train.ts';
import { trainInThread } from '../ml/training-threads.ts';
import type { ActivityContext } from './context.ts';
import type { MlflowRun } from '../adapters/mlflow/client.ts';
import { loadSnapshot, splitSnapshot } from './data.ts';
import { uploadModelFiles } from '../adapters/mlflow/model-files.ts';
import { rungObjective } from '../core/sweep-plan.ts';
import { sweepReport } from './sweep-report.ts';
import { MODEL_CONFIG_TAG, WARM_START_TAG, warmStartOf } from './warm-start.ts';
import { logTrialModel } from './logged-model.ts';
import { snapshotDataset } from '../adapters/mlflow/datasets.ts';
import { currentSourceVersion, sourceVersionTags } from '../config/source-version.ts';
import type { RungRequest, SweepRun, TrialOutcome, TrialSummary } from '../core/sweep-loop.ts';
import type { ModelFiles, RetrainRun, Snapshot } from '../core/contracts.ts';
import { PROFILE_JSON } from '../ml/bundle-format.ts';

const checkpointDir = (epoch: number) => `checkpoints/epoch-${epoch}`;

/** Trial seeds differ per trial but follow from the sweep's seed alone. */
export const trialSeed = (sweepSeed: number, trial: number) => (Math.imul(sweepSeed, 31) + trial * 7919) | 0;

/** What a trained rung tells the sweep: its objective, and the scores and costs its tie-break reads. */
export const trialOutcome = (runId: string, objective: number, result: TrainResult): TrialOutcome => ({
  runId,
  objective,
  valAccuracy: result.valAccuracy,
  valLogLoss: result.valLogLoss,
  paramCount: result.paramCount,
  latencyMs: result.predictLatencyMs,
  backend: result.backend,
});

export function trialActivities(ctx: ActivityContext) {
  const { mlflow } = ctx;

  async function downloadCheckpoint(artifactUri: string, epoch: number): Promise<ModelFiles> {
    const entries = await mlflow.listArtifacts(artifactUri, checkpointDir(epoch));
    if (entries.length === 0) throw new Error(`no checkpoint at ${artifactUri}/${checkpointDir(epoch)}`);
    const files = await Promise.all(
      entries
        .filter((e) => !e.isDir)
        .map(async (e) => [e.path.slice(checkpointDir(epoch).length + 1), await mlflow.downloadArtifact(artifactUri, e.path)] as const),
    );
    return Object.fromEntries(files);
  }

  return {
    /**
     * Whether the champion can be continued by warmStart trials: null when it can, else why not
     * (no recorded configuration, other features or classes than the spec now has). Asked once
     * per sweep, so an impossible warm start is skipped instead of failing a trial.
     */
    async warmStartBlocker(input: { spec: ModelSpec; championVersion: string }): Promise<string | null> {
      try {
        await warmStartOf(mlflow, input.spec, { family: WARM_START, params: {}, from: input.championVersion }, true);
        return null;
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === 'WarmStartImpossible') return err.message;
        throw err;
      }
    },

    async startSweepRun(input: { model: string; n: number; retrainRun: RetrainRun; spec: ModelSpec }): Promise<SweepRun> {
      const s = input.spec.training.sweep;
      const { run } = await mlflow.findOrCreateRun({
        experimentId: input.retrainRun.experimentId,
        key: `${input.retrainRun.runId}/sweep`,
        runName: `retrain-${input.n}-sweep`,
        parentRunId: input.retrainRun.runId,
        tags: { 'perennial.model': input.model, 'perennial.kind': 'sweep', ...sourceVersionTags(currentSourceVersion()) },
      });
      await mlflow.logBatch(run.runId, {
        params: {
          sampler: s.sampler,
          seed: s.seed,
          max_trials: s.budget.maxTrials,
          max_wall_time: String(s.budget.maxWallTime),
          max_epochs_per_trial: s.budget.maxEpochsPerTrial,
          early_stopping: JSON.stringify(s.earlyStopping),
          parallelism: s.parallelism,
          objective: `${s.objective.direction} ${s.objective.metric}`,
          search_space: JSON.stringify(s.families).slice(0, 6000),
        },
      });
      return { experimentId: input.retrainRun.experimentId, runId: run.runId, artifactUri: run.artifactUri };
    },

    async trainTrialRung(input: RungRequest & { spec: ModelSpec; snapshot: Snapshot }): Promise<TrialOutcome> {
      const { spec, config, rung } = input;
      const settings = spec.training.sweep;
      const { run } = await mlflow.findOrCreateRun({
        experimentId: input.sweepRun.experimentId,
        key: `${input.sweepRun.runId}/trial/${input.trial}`,
        runName: `trial-${input.trial} ${config.family}`,
        parentRunId: input.sweepRun.runId,
        tags: {
          'perennial.model': spec.name,
          'perennial.kind': 'trial',
          'perennial.trial': String(input.trial),
          ...sourceVersionTags(currentSourceVersion()),
          ...(config.from !== undefined ? { [WARM_START_TAG]: `v${config.from}` } : {}),
        },
      });
      // This rung finished before a crash lost the activity's answer: answer the same again.
      const done = run.tags[`perennial.rung_${rung}`];
      if (done) return JSON.parse(done) as TrialOutcome;

      // The data it learns from, as on the retrain's run (the same dataset: same name and digest).
      if (input.fromEpoch === 0) await mlflow.logDatasetInputs(run.runId, [snapshotDataset(spec, input.snapshot)]);
      const checkpoint = input.fromEpoch > 0 ? await downloadCheckpoint(run.artifactUri, input.fromEpoch) : undefined;
      // A warm start trains the champion's model; its first rung starts from the champion's files.
      const warm =
        config.family === WARM_START && config.from !== undefined
          ? await warmStartOf(mlflow, spec, { ...config, from: config.from }, input.fromEpoch === 0)
          : undefined;
      const model = warm?.config ?? scratchConfig(config);
      const result = await trainOnRun(ctx, {
        run,
        spec,
        snapshot: input.snapshot,
        config: model,
        warmStart: warm?.files,
        seed: trialSeed(settings.seed, input.trial),
        splitSeed: settings.seed,
        fromEpoch: input.fromEpoch,
        toEpoch: input.toEpoch,
        checkpoint,
        heartbeat: { trial: input.trial, rung },
      });
      for (const [name, bytes] of Object.entries(result.checkpoint)) {
        await mlflow.uploadArtifact(run.artifactUri, `${checkpointDir(input.toEpoch)}/${name}`, bytes);
      }
      const at = (epoch: number) => run.startTime + epoch;
      const objective = rungObjective(result.history.map((e) => objectiveOf(e, settings.objective.metric)));
      const outcome = trialOutcome(run.runId, objective, result);
      await mlflow.logBatch(run.runId, {
        params: {
          family: config.family,
          ...Object.fromEntries(Object.entries(config.params).map(([k, v]) => [k, String(v)])),
          seed: trialSeed(settings.seed, input.trial),
        },
        metrics: [
          { key: 'objective', value: objective, step: input.toEpoch, timestamp: at(input.toEpoch) },
          { key: 'rung', value: rung, step: input.toEpoch, timestamp: at(input.toEpoch) },
          { key: 'param_count', value: result.paramCount, step: input.toEpoch, timestamp: at(input.toEpoch) },
          { key: 'train_ms', value: result.trainMs, step: input.toEpoch, timestamp: at(input.toEpoch) },
          { key: 'peak_memory_bytes', value: result.peakMemoryBytes, step: input.toEpoch, timestamp: at(input.toEpoch) },
          { key: 'predict_latency_ms', value: result.predictLatencyMs, step: input.toEpoch, timestamp: at(input.toEpoch) },
        ],
        tags: {
          'perennial.backend': result.backend,
          [MODEL_CONFIG_TAG]: JSON.stringify(model),
        },
      });
      // Last, once everything above is stored: the mark a retried attempt answers from.
      await mlflow.setTag(run.runId, `perennial.rung_${rung}`, JSON.stringify(outcome));
      return outcome;
    },

    /** `spec` is absent in calls from sweeps recorded before trials became logged models. */
    async closeTrial(input: {
      runId: string;
      state: 'pruned' | 'completed';
      rungReached: number;
      epochs: number;
      spec?: ModelSpec;
    }): Promise<void> {
      await mlflow.logBatch(input.runId, {
        tags: {
          'perennial.trial_state': input.state,
          'perennial.rung_reached': String(input.rungReached),
          'perennial.epochs': String(input.epochs),
        },
      });
      const run = await mlflow.getRun(input.runId);
      if (input.spec) await logTrialModel(mlflow, input.spec, run, input.epochs);
      if (run.status === 'RUNNING') await mlflow.finishRun(input.runId, 'FINISHED');
    },

    async finishSweepRun(input: {
      sweepRun: SweepRun;
      spec: ModelSpec;
      trials: TrialSummary[];
      best: number;
      stoppedBy?: string;
    }): Promise<void> {
      const { summary, chart } = await sweepReport(input.spec, input.trials, input.best, input.stoppedBy);
      await mlflow.uploadArtifact(input.sweepRun.artifactUri, 'sweep/summary.json', JSON.stringify(summary, null, 2), 'application/json');
      await mlflow.uploadArtifact(input.sweepRun.artifactUri, 'sweep/objective.svg', chart.svg, 'image/svg+xml');
      await mlflow.uploadArtifact(
        input.sweepRun.artifactUri,
        'sweep/objective.vl.json',
        JSON.stringify(chart.spec, null, 2),
        'application/json',
      );
      const best = summary.bestSoFar;
      await mlflow.logBatch(input.sweepRun.runId, {
        metrics: best.map((value, trial) => ({ key: 'best_objective', value, step: trial, timestamp: trial + 1 })),
        tags: {
          'perennial.best_trial': String(input.best),
          'perennial.best_run_id': input.trials[input.best].runId,
          ...(input.stoppedBy ? { 'perennial.stopped_by': input.stoppedBy } : {}),
        },
      });
      const run = await mlflow.getRun(input.sweepRun.runId);
      if (run.status === 'RUNNING') await mlflow.finishRun(input.sweepRun.runId, 'FINISHED');
    },
  };
}

/**
 * Trains `config` on the snapshot from `fromEpoch` to `toEpoch` in a worker thread, heartbeating
 * and logging each epoch to `run` (fixed timestamps: a retried rung logs identical points,
 * which MLflow keeps once), then stores the model files under `model/` of the run.
 */
export async function trainOnRun(
  ctx: ActivityContext,
  input: {
    run: MlflowRun;
    spec: ModelSpec;
    snapshot: Snapshot;
    config: ModelConfig;
    /** The model files to continue from on a warm start's first rung (ml/train.ts TrainInput.warmStart). */
    warmStart?: ModelFiles;
    seed: number;
    /** Seeds the train/validation split; every trial of a sweep uses the same one. */
    splitSeed: number;
    fromEpoch: number;
    toEpoch: number;
    checkpoint?: ModelFiles;
    heartbeat: Record<string, unknown>;
  },
): Promise<TrainResult> {
  // The heartbeat timeout is there to notice a killed worker: a live one beats every few seconds
  // while its thread works, as preparing 28x28 images or one cnn epoch on a busy CPU outlasts it.
  // Each beat carries the latest epoch done, as the per-epoch beats do.
  const activity = Context.current();
  const latest = { details: input.heartbeat };
  const beating = setInterval(() => activity.heartbeat(latest.details), HEARTBEAT_EVERY_MS);
  try {
    return await trainOnThread(ctx, input, latest);
  } finally {
    clearInterval(beating);
  }
}

/** Well inside the sweep's 20 s heartbeat timeout (workflows/sweep.ts). */
const HEARTBEAT_EVERY_MS = 5000;

async function trainOnThread(
  ctx: ActivityContext,
  input: Parameters<typeof trainOnRun>[1],
  latest: { details: Record<string, unknown> },
): Promise<TrainResult> {
  const { run, spec, mlflow } = { ...input, mlflow: ctx.mlflow };
  const rows = await loadSnapshot(ctx, input.snapshot);
  const { train, validation } = splitSnapshot(rows, spec.training.holdoutFraction, input.splitSeed);
  const labelled = (part: typeof rows) => ({ rows: part, labels: part.map((r) => String(r[spec.label.name])) });
  const activity = Context.current();
  let logging: Promise<void> = Promise.resolve();
  let loggingError: unknown;
  const result = await trainInThread(
    {
      config: input.config,
      features: spec.features,
      image: spec.image,
      classes: labelClasses(spec.label),
      labelType: isRegression(spec.label) ? 'number' : 'category',
      train: labelled(train),
      validation: labelled(validation),
      seed: input.seed,
      fromEpoch: input.fromEpoch,
      toEpoch: input.toEpoch,
      checkpoint: input.checkpoint,
      warmStart: input.warmStart,
    },
    (e) => {
      latest.details = { ...input.heartbeat, epoch: e.epoch };
      activity.heartbeat(latest.details);
      const point = (key: string, value: number) => ({ key, value, step: e.epoch, timestamp: run.startTime + e.epoch });
      // Handled at once: a failure while training goes on would otherwise be an unhandled
      // rejection; it fails the rung after training, and later epochs are not logged.
      logging = logging
        .then(() =>
          loggingError === undefined
            ? mlflow.logBatch(run.runId, { metrics: epochPoints(e).map(([key, value]) => point(key, value)) })
            : undefined,
        )
        .catch((err: unknown) => {
          loggingError = err;
        });
    },
    activity.cancellationSignal,
  );
  await logging;
  if (loggingError !== undefined) throw loggingError;
  // A warm start on the records since its champion's (an online update) learned them on top of the
  // champion's own: drift stays judged against the champion's training profile, not one small batch.
  if (input.warmStart && spec.training.window.kind === 'sinceChampion') result.checkpoint[PROFILE_JSON] = input.warmStart[PROFILE_JSON];
  await uploadModelFiles(mlflow, run.artifactUri, result.checkpoint);
  return result;
}

/** The sweep objective's value after one epoch. */
function objectiveOf(e: EpochMetrics, metric: ModelSpec['training']['sweep']['objective']['metric']): number {
  const values = { val_accuracy: e.valAccuracy, val_log_loss: e.valLoss, val_rmse: e.valRmse, val_mae: e.valMae };
  return values[metric] ?? NaN;
}

/** An epoch's metrics as MLflow records them: a classifier's accuracies, a regression model's errors (MLflow has no NaN). */
function epochPoints(e: EpochMetrics): Array<[string, number]> {
  const points: Array<[string, number]> =
    e.valRmse === undefined
      ? [
          ['loss', e.loss],
          ['accuracy', e.accuracy],
          ['val_loss', e.valLoss],
          ['val_accuracy', e.valAccuracy],
        ]
      : [
          ['loss', e.loss],
          ['val_loss', e.valLoss],
          ['val_rmse', e.valRmse],
          ['val_mae', e.valMae!],
        ];
  return points.filter(([, v]) => Number.isFinite(v));
}
