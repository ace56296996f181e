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
import { isRegression, type ModelSpec } from '../core/spec.ts';
import { downloadModelFiles } from '../adapters/mlflow/model-files.ts';
import { loadPredictor, type Predictor } from '../ml/bundle.ts';
import type { ModelFiles } from '../core/contracts.ts';
import type { ActivityContext } from './context.ts';
import { loadSnapshot, splitSnapshot, type Row } from './data.ts';
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
      const { reference } = settings;
      let filter: { throughId?: number; source?: string };
      let description: string;
      if (reference.kind === 'source') {
        filter = { source: reference.source };
        description = `source "${reference.source}"`;
      } else {
        if (!champion) return skippedGate('olderData', 'no champion: no training period to compare on');
        if (input.championTrainedThrough === undefined)
          return skippedGate(
            'olderData',
            `the training period of champion v${input.championVersion} is not known (it became champion by a rollback): not judged`,
          );
        filter = { throughId: input.championTrainedThrough };
        description = `the champion's training period, records up to id ${input.championTrainedThrough}`;
      }
      const records = ctx.store.referenceRecords(spec.name, filter, settings.maxRows);
      const rows = records.map((r) => ({ ...r.features, [spec.label.name]: r.label }) as Row);
      if (records.length) description += `, ids ${records[0].id}..${records.at(-1)!.id}`;
      const scored = rows.length ? scoreBoth(rows) : undefined;
      return judgeOlderData(settings, regression, description, {
        rows: rows.length,
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
