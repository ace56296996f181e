/**
 * sweep: the AutoML search of one retrain (child workflow `model/<name>/retrain/<n>/sweep`).
 * Proposals and promotions are decided here, in workflow code (core/sweep-loop.ts), so a sweep
 * replays to the same choices and survives worker crashes at trial-rung granularity: each rung
 * is an activity on the training task queue that resumes from the previous rung's checkpoint.
 */
import { ApplicationFailure, log, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { sweepStatusQuery } from '../core/messages.ts';
import type { ModelSpec } from '../core/spec.ts';
import { SHORT_CALL } from './activity-options.ts';
import { progressAtStart, runSweep, type SweepProgress, type SweepResult } from '../core/sweep-loop.ts';
import type { RetrainRun, Snapshot } from '../core/contracts.ts';
import { DETERMINISTIC_TIES_PATCH, SWEEP_HISTORY_PATCH, TRAINING_PERMITS_PATCH } from './legacy/patches.ts';
import { withTrainingPermit } from './training-permit.ts';
import { planWarmStart } from '../core/warm-start.ts';

const { startSweepRun, closeTrial, finishSweepRun, warmStartBlocker, readSweepHistory } = proxyActivities<Activities>(SHORT_CALL);

export interface SweepInput {
  spec: ModelSpec;
  snapshot: Snapshot;
  retrainRun: RetrainRun;
  n: number;
  /** Where trial rungs run: heavy work gets its own task queue and worker capacity. */
  trainingTaskQueue: string;
  /** The champion that warmStart trials continue; absent on a model's first retrain. */
  championVersion?: string;
}

export async function sweep(input: SweepInput): Promise<SweepResult> {
  const { snapshot } = input;
  // Data-guarded: a spec without warmStart (every recorded history's) comes back unchanged.
  const { championVersion } = input;
  const blocker =
    input.spec.training.sweep.families.warmStart && championVersion
      ? await warmStartBlocker({ spec: input.spec, championVersion })
      : undefined;
  const plan = planWarmStart(input.spec.name, input.spec.training.sweep, championVersion, blocker);
  if ('error' in plan) throw ApplicationFailure.nonRetryable(plan.error, 'NoChampionToWarmStart');
  if (plan.note) log.info(plan.note);
  const spec = plan.note ? { ...input.spec, training: { ...input.spec.training, sweep: plan.sweep } } : input.spec;
  const { trainTrialRung } = proxyActivities<Activities>({
    taskQueue: input.trainingTaskQueue,
    startToCloseTimeout: '1h',
    // A killed worker is noticed within a heartbeat timeout; the rung restarts from its checkpoint.
    heartbeatTimeout: '20s',
    // Retried through an MLflow outage (workflows/activity-options.ts), with room for a long rung.
    scheduleToCloseTimeout: '2h',
    retry: SHORT_CALL.retry,
  });
  // Only specs with `history` reach the marker, and no recorded history's spec has it.
  const learnsFromHistory = spec.training.sweep.history !== undefined && patched(SWEEP_HISTORY_PATCH);
  let status: SweepProgress = progressAtStart(spec.training.sweep);
  let permit: string | undefined;
  setHandler(sweepStatusQuery, () => (permit ? { ...status, permit } : status));

  const train = () =>
    runSweep(
      spec,
      {
        startSweepRun: () => startSweepRun({ model: spec.name, n: input.n, retrainRun: input.retrainRun, spec }),
        trainTrialRung: (request) => trainTrialRung({ ...request, spec, snapshot }),
        closeTrial: (close) => closeTrial({ ...close, spec }),
        finishSweepRun: (done) => finishSweepRun({ ...done, spec }),
        ...(learnsFromHistory ? { readHistory: (sweepRun) => readSweepHistory({ spec, sweepRun, championVersion }) } : {}),
        now: () => Date.now(),
      },
      (progress) => (status = progress),
      patched(DETERMINISTIC_TIES_PATCH) ? 'deterministic' : 'latency',
      input.championVersion,
    );
  // Guarded: sweeps recorded before permits existed replay straight into their first activity.
  const result = patched(TRAINING_PERMITS_PATCH) ? await withTrainingPermit(spec.name, (line) => (permit = line), train) : await train();
  return plan.note ? { ...result, notes: [plan.note, ...(result.notes ?? [])] } : result;
}
