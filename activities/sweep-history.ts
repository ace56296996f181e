/**
 * What a sweep learns from earlier sweeps (spec `training.sweep.history`, core/sweep-history.ts):
 * their trials read from MLflow, ranked within their own sweep, checked against today's search
 * space, and capped; and the champion's configuration for the first trial. The sweep run records
 * what was used: tags with the counts and `sweep/history.json` with every prior run id and weight.
 */
import type { MlflowClient, MlflowRun } from '../adapters/mlflow/client.ts';
import { literal } from '../adapters/mlflow/checks.ts';
import { experimentName } from '../adapters/mlflow/model-files.ts';
import { familiesOf } from '../core/sampling/space.ts';
import type { TrialConfig } from '../core/search-space.ts';
import type { ModelSpec } from '../core/spec.ts';
import {
  describeHistory,
  priorConfig,
  priorWeight,
  ranksWithinSweep,
  type DropReason,
  type HistorySettings,
  type PriorTrial,
  type SweepHistory,
} from '../core/sweep-history.ts';
import type { SweepRun } from '../core/sweep-loop.ts';
import type { ActivityContext } from './context.ts';
import { modelConfigOf } from './warm-start.ts';

/** On a sweep run whose spec names history.tag: the tag other models' sweeps learn from (`from: tag`). */
export const HISTORY_TAG = 'perennial.history_tag';
const DAY_MS = 86_400_000;

/** Trial runs record their first rung's outcome (objective included) in this tag (activities/trials.ts). */
const FIRST_RUNG_TAG = 'perennial.rung_0';

export function sweepHistoryActivities({ mlflow }: ActivityContext) {
  return {
    async readSweepHistory(input: { spec: ModelSpec; sweepRun: SweepRun; championVersion?: string }): Promise<SweepHistory> {
      const { spec, sweepRun } = input;
      const settings = spec.training.sweep;
      const history = settings.history;
      if (!history) throw new Error('readSweepHistory: the spec has no training.sweep.history');
      if (history.tag) await mlflow.setTag(sweepRun.runId, HISTORY_TAG, history.tag);

      const objective = `${settings.objective.direction} ${settings.objective.metric}`;
      const now = Date.now();
      const trials: PriorTrial[] = [];
      const record: { sweepRunId: string; model: string; trials: { runId: string; rank: number; good: boolean; weight: number }[] }[] = [];
      const dropped: Partial<Record<DropReason, number>> = {};
      const drop = (reason: DropReason, n = 1) => (dropped[reason] = (dropped[reason] ?? 0) + n);

      for (const sweep of await earlierSweeps(mlflow, spec.name, history, sweepRun.runId)) {
        if (trials.length >= history.maxTrials) break;
        const trialRuns = (await mlflow.childRuns(sweep.experimentId, sweep.runId)).filter((r) => r.tags['perennial.kind'] === 'trial');
        if (sweep.params.objective !== objective) {
          drop('otherObjective', trialRuns.length);
          continue;
        }
        const finished: { run: MlflowRun; objective: number }[] = [];
        for (const run of trialRuns) {
          const outcome = run.tags[FIRST_RUNG_TAG];
          if (!outcome) drop('unfinished');
          else finished.push({ run, objective: Number((JSON.parse(outcome) as { objective: number | null }).objective ?? NaN) });
        }
        finished.sort((a, b) => Number(a.run.tags['perennial.trial']) - Number(b.run.tags['perennial.trial']));
        // Ranked among all its sweep's finished trials, including those left out below.
        const ranks = ranksWithinSweep(
          finished.map((f) => f.objective),
          settings.objective.direction,
        );
        const ageDays = Math.max(0, now - sweep.startTime) / DAY_MS;
        const used: (typeof record)[number] = { sweepRunId: sweep.runId, model: sweep.tags['perennial.model'] ?? '', trials: [] };
        finished.forEach(({ run, objective: value }, i) => {
          if (trials.length >= history.maxTrials) return;
          const config = priorConfig(settings, run.params.family ?? '', run.params);
          if (typeof config === 'string') return drop(config);
          trials.push({ runId: run.runId, config, objective: value, rank: ranks[i], ageDays });
          used.trials.push({
            runId: run.runId,
            rank: ranks[i],
            good: ranks[i] < settings.tpe.gamma,
            weight: priorWeight(history, ageDays),
          });
        });
        if (used.trials.length) record.push(used);
      }

      const champion = history.startFromChampion ? await championConfig(mlflow, spec, input.championVersion) : undefined;
      const result: SweepHistory = {
        trials,
        sweeps: record.length,
        dropped,
        ...(champion && 'config' in champion ? { champion } : {}),
        ...(champion && 'note' in champion ? { championNote: champion.note } : {}),
      };
      await mlflow.uploadArtifact(
        sweepRun.artifactUri,
        'sweep/history.json',
        JSON.stringify(
          { settings: history, gamma: settings.tpe.gamma, sweeps: record, dropped, champion, notes: [describeHistory(result)] },
          null,
          2,
        ),
        'application/json',
      );
      await mlflow.logBatch(sweepRun.runId, {
        tags: {
          'perennial.history_trials': String(trials.length),
          'perennial.history_sweeps': String(record.length),
          ...(result.champion ? { 'perennial.history_champion': `v${result.champion.version}` } : {}),
        },
      });
      return result;
    },
  };
}

/**
 * Earlier sweep runs to learn from, most recent first: the model's own, and with `from: tag` every
 * perennial sweep run carrying the tag (other models' included). Never the running sweep.
 */
async function earlierSweeps(mlflow: MlflowClient, model: string, history: HistorySettings, current: string): Promise<MlflowRun[]> {
  const ownExperiment = await mlflow.getOrCreateExperiment(experimentName(model), { 'perennial.model': model });
  const sweeps = `tags.\`perennial.kind\` = 'sweep'`;
  const runs = await mlflow.searchRuns([ownExperiment], `${sweeps} AND tags.\`perennial.model\` = ${literal(model)}`);
  if (history.from === 'tag' && history.tag) {
    const experiments = await mlflow.searchExperiments(`name LIKE ${literal(experimentName('%'))}`);
    for (let i = 0; i < experiments.length; i += 100) {
      runs.push(
        ...(await mlflow.searchRuns(experiments.slice(i, i + 100), `${sweeps} AND tags.\`${HISTORY_TAG}\` = ${literal(history.tag)}`)),
      );
    }
  }
  const unique = [...new Map(runs.map((r) => [r.runId, r])).values()].filter((r) => r.runId !== current);
  return unique.sort((a, b) => b.startTime - a.startTime || (a.runId < b.runId ? -1 : 1));
}

/** The champion's configuration when today's sweep searches its family, else why not. */
async function championConfig(
  mlflow: MlflowClient,
  spec: ModelSpec,
  version: string | undefined,
): Promise<{ version: string; config: TrialConfig } | { note: string }> {
  if (!version) return { note: `startFromChampion: ${spec.name} has no champion yet` };
  const run = await mlflow.getRun((await mlflow.getModelVersion(spec.name, version)).runId);
  const config = modelConfigOf(run);
  if (!config) return { note: `startFromChampion: v${version}'s run ${run.runId} records no model configuration` };
  if (!familiesOf(spec.training.sweep).some((f) => f === config.family)) {
    return { note: `startFromChampion: v${version} is a ${config.family}, a family this sweep does not search` };
  }
  return { version, config };
}
