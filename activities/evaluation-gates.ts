/**
 * The evaluation gates before any traffic (spec `evaluation`: olderData, slices, size, speed),
 * measured in the worker on the challenger and the champion, judged by core/gates/, and recorded
 * on the retrain's MLflow run: every gate's metrics (`gate.<gate>.<name>`), the tag
 * `perennial.gates` and the artifact `evaluation.json` with every number and verdict.
 */
import type { RetrainRun, Snapshot } from '../core/contracts.ts';
import { gatesOf, skippedGate, type GateName, type GateResult } from '../core/gates/result.ts';
import { judgeOlderData } from '../core/gates/older-data.ts';
import { judgeSlices, type ScoredSlice } from '../core/gates/slices.ts';
import { judgeSize } from '../core/gates/size.ts';
import { judgeSpeed } from '../core/gates/speed.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression } from '../core/spec-reading.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import { loadPredictor, type Predictor } from '../ml/bundle.ts';
import type { ModelFiles } from '../core/contracts.ts';
import type { ActivityContext } from './context.ts';
import { loadSnapshot, SNAPSHOT_PATH, splitSnapshot, type Row } from './data.ts';
import { modelSize, ScoredPredictions, timePredictions } from './gate-measurements.ts';

export const EVALUATION_JSON = 'evaluation.json';

export interface EvaluationGatesInput {
  spec: ModelSpec;
  snapshot: Snapshot;
  challengerRunId: string;
  championVersion?: string;
  /** The last record id the champion learned from: the end of its training period (older data). */
  championTrainedThrough?: number;
  retrainRun: RetrainRun;
}

interface Contender {
  files: ModelFiles;
  predictor: Predictor;
}

export function evaluationGateActivities(ctx: ActivityContext) {
  const { mlflow } = ctx;
  const filesOfRun = async (runId: string) => downloadModelFiles(mlflow, (await mlflow.getRun(runId)).artifactUri);

  return {
    async runEvaluationGates(input: EvaluationGatesInput): Promise<GateResult[]> {
      const { spec } = input;
      const rows = await loadSnapshot(ctx, input.snapshot);
      const { holdout } = splitSnapshot(rows, spec.training.holdoutFraction, spec.training.sweep.seed);
      const challengerFiles = await filesOfRun(input.challengerRunId);
      const championFiles = input.championVersion
        ? await filesOfRun((await mlflow.getModelVersion(spec.name, input.championVersion)).runId)
        : undefined;
      const loaded: Predictor[] = [];
      const contender = async (files: ModelFiles): Promise<Contender> => {
        const predictor = await loadPredictor(files);
        loaded.push(predictor);
        return { files, predictor };
      };
      const results: GateResult[] = [];
      try {
        const challenger = await contender(challengerFiles);
        const champion = championFiles && (await contender(championFiles));
        const measure = gateMeasurements(ctx, input, holdout, challenger, champion);
        for (const gate of gatesOf(spec)) results.push(await measure[gate]());
      } finally {
        for (const predictor of loaded) predictor.dispose();
      }
      const passed = results.every((r) => r.passed);
      await mlflow.uploadArtifact(
        input.retrainRun.artifactUri,
        EVALUATION_JSON,
        JSON.stringify(
          { challengerRunId: input.challengerRunId, championVersion: input.championVersion ?? null, passed, gates: results },
          null,
          2,
        ),
        'application/json',
      );
      await mlflow.logBatch(input.retrainRun.runId, {
        tags: { 'perennial.gates': passed ? 'passed' : 'failed' },
        metrics: results.flatMap((r) => Object.entries(r.metrics).map(([key, value]) => ({ key, value, step: 0 }))),
      });
      return results;
    },
  };
}

/** Per gate, how it is measured and judged. */
function gateMeasurements(
  ctx: ActivityContext,
  input: EvaluationGatesInput,
  holdout: Row[],
  challenger: Contender,
  champion: Contender | undefined,
): Record<GateName, () => Promise<GateResult>> {
  const { spec } = input;
  const regression = isRegression(spec.label);
  const labelsOf = (rows: readonly Row[]) => rows.map((r) => String(r[spec.label.name]));
  const scoreBoth = (rows: Row[]) => ({
    challenger: new ScoredPredictions(challenger.predictor, rows, labelsOf(rows)),
    champion: champion && new ScoredPredictions(champion.predictor, rows, labelsOf(rows)),
  });

  return {
    async olderData() {
      const settings = spec.evaluation.olderData!;
      const reference = await referenceRows(ctx, input, settings, champion !== undefined);
      if ('skip' in reference) return skippedGate('olderData', reference.skip);
      const scored = reference.rows.length ? scoreBoth(reference.rows) : undefined;
      return judgeOlderData(settings, regression, reference.description, {
        rows: reference.rows.length,
        challenger: scored?.challenger.scores() ?? {},
        champion: scored?.champion?.scores(),
      });
    },

    async slices() {
      const settings = spec.evaluation.slices!;
      const scored = scoreBoth(holdout);
      const slices: ScoredSlice[] = settings.columns.flatMap((column) => {
        const groups = new Map<string, number[]>();
        holdout.forEach((row, i) => {
          const raw = row[column];
          const value = raw === undefined || raw === null || raw === '' ? '(missing)' : String(raw);
          groups.set(value, [...(groups.get(value) ?? []), i]);
        });
        return [...groups].map(([value, indices]) => ({
          column,
          value,
          rows: indices.length,
          challenger: scored.challenger.scores(indices),
          champion: scored.champion?.scores(indices),
        }));
      });
      return judgeSlices(settings, regression, slices);
    },

    async size() {
      return judgeSize(spec.evaluation.size!, modelSize(challenger.files), champion && modelSize(champion.files));
    },

    async speed() {
      const settings = spec.evaluation.speed!;
      // The holdout's first rows, repeated when it is shorter than the batch.
      const batch = Array.from({ length: settings.batchRows }, (_, i) => holdout[i % holdout.length]);
      const timings = await timePredictions(batch, settings.repeats, {
        challenger: challenger.predictor,
        champion: champion?.predictor,
      });
      return judgeSpeed(settings, timings.challenger, timings.champion);
    },
  };
}

/**
 * The older labelled rows of the olderData gate, newest `maxRows`: a source's records, or the
 * champion's training period (records up to the last id it learned from). When the lifecycle
 * does not know that id (the champion came back by a rollback, or was found at the lifecycle's
 * start), the champion's own training snapshot stands in: its version names the retrain run.
 */
async function referenceRows(
  ctx: ActivityContext,
  input: EvaluationGatesInput,
  settings: NonNullable<ModelSpec['evaluation']['olderData']>,
  hasChampion: boolean,
): Promise<{ rows: Row[]; description: string } | { skip: string }> {
  const { spec } = input;
  const { reference, maxRows } = settings;
  const fromStore = async (filter: { throughId?: number; source?: string }, description: string) => {
    const records = await ctx.store.referenceRecords(spec.name, filter, maxRows);
    return {
      rows: records.map((r) => ({ ...r.features, [spec.label.name]: r.label }) as Row),
      description: records.length ? `${description}, ids ${records[0].id}..${records.at(-1)!.id}` : description,
    };
  };
  if (reference.kind === 'source') return fromStore({ source: reference.source }, `source "${reference.source}"`);
  if (!hasChampion) return { skip: 'no champion: no training period to compare on' };
  if (input.championTrainedThrough !== undefined)
    return fromStore(
      { throughId: input.championTrainedThrough },
      `the champion's training period, records up to id ${input.championTrainedThrough}`,
    );
  const version = await ctx.mlflow.getModelVersion(spec.name, input.championVersion!);
  const retrainRunId = version.tags['perennial.retrain_run_id'];
  const run = retrainRunId && (await ctx.mlflow.getRun(retrainRunId));
  if (!run || !run.params['data.sha256'])
    return { skip: `the training data of champion v${input.championVersion} is not known: not judged` };
  const snapshot = {
    artifactUri: run.artifactUri,
    path: SNAPSHOT_PATH,
    hash: run.params['data.sha256'],
    rows: 0,
    maxRecordId: 0,
    classCounts: {},
  };
  const rows = (await loadSnapshot(ctx, snapshot)).slice(-maxRows);
  return { rows, description: `the champion's training snapshot (retrain run ${retrainRunId}), its last ${rows.length} rows` };
}
