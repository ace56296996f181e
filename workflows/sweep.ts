/**
 * sweep: the AutoML search of one retrain (child workflow `model/<name>/retrain/<n>/sweep`).
 * Proposals and promotions are decided here, in workflow code (core/sweep-loop.ts), so a sweep
 * replays to the same choices and survives worker crashes at trial-rung granularity: each rung
 * is an activity on the training task queue that resumes from the previous rung's checkpoint.
 */
import { patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { sweepStatusQuery } from '../core/messages.ts';
import type { ModelSpec } from '../core/spec.ts';
import { SHORT_CALL } from './activity-options.ts';
import { runSweep, type SweepProgress, type SweepResult } from '../core/sweep-loop.ts';
import type { RetrainRun, Snapshot } from '../core/contracts.ts';
import { DETERMINISTIC_TIES_PATCH } from './legacy/patches.ts';

const { startSweepRun, closeTrial, finishSweepRun } = proxyActivities<Activities>(SHORT_CALL);

export interface SweepInput {
  spec: ModelSpec;
  snapshot: Snapshot;
  retrainRun: RetrainRun;
  n: number;
  /** Where trial rungs run: heavy work gets its own task queue and worker capacity. */
  trainingTaskQueue: string;
}

export async function sweep(input: SweepInput): Promise<SweepResult> {
  const { spec, snapshot } = input;
  const { trainTrialRung } = proxyActivities<Activities>({
    taskQueue: input.trainingTaskQueue,
    startToCloseTimeout: '1h',
    // A killed worker is noticed within a heartbeat timeout; the rung restarts from its checkpoint.
    heartbeatTimeout: '20s',
    // Retried through an MLflow outage (workflows/activity-options.ts), with room for a long rung.
    scheduleToCloseTimeout: '2h',
    retry: SHORT_CALL.retry,
  });
  let status: SweepProgress = { trials: 0, rungsDone: 0, rungs: [] };
  setHandler(sweepStatusQuery, () => status);

  return runSweep(
    spec,
    {
      startSweepRun: () => startSweepRun({ model: spec.name, n: input.n, retrainRun: input.retrainRun, spec }),
      trainTrialRung: (request) => trainTrialRung({ ...request, spec, snapshot }),
      closeTrial,
      finishSweepRun: (done) => finishSweepRun({ ...done, spec }),
      now: () => Date.now(),
    },
    (progress) => (status = progress),
    patched(DETERMINISTIC_TIES_PATCH) ? 'deterministic' : 'latency',
  );
}
