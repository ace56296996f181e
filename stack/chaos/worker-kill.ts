/**
 * The worker killed with SIGKILL in the middle of a retrain's sweep, again and again (5 times in
 * the full form, 2 in the short), and started anew each time, as a supervisor would. The retrain
 * must finish with one MLflow run per trial, nothing left RUNNING and one registered version.
 */
import { auditRetrain } from './audit.ts';
import type { FaultResult, FaultScenario } from './fault.ts';
import {
  chaosDir,
  chaosSpec,
  chaosStack,
  killHard,
  mlflowFor,
  pendingActivities,
  retrainOutcome,
  sleep,
  temporalFor,
  untilRungsDone,
} from './harness.ts';

const PATIENCE_MS = 20 * 60_000;

export const scenario: FaultScenario = {
  name: 'worker-kill',
  async run({ full }): Promise<FaultResult> {
    const kills = full ? 5 : 2;
    const spec = chaosSpec(full ? 8 : 4);
    const dir = chaosDir('worker-kill');
    const [temporal, mlflow] = await Promise.all([temporalFor(dir), mlflowFor(dir)]);
    const stack = await chaosStack({ dir, temporalAddress: temporal.address, mlflowUrl: mlflow.url, spec });
    try {
      let worker = stack.worker();
      const retrain = await stack.startRetrain();
      const recoveries: number[] = [];
      const interrupted: number[] = [];
      let rungs = 0;
      let restartedAt: number | undefined;
      while (interrupted.length < kills) {
        const progress = await untilRungsDone(stack, retrain, rungs + 1, PATIENCE_MS);
        if (restartedAt !== undefined) recoveries.push((Date.now() - restartedAt) / 1000);
        restartedAt = undefined;
        if (!progress) break; // the retrain ended before every kill was made
        rungs = progress.rungsDone;
        // Kill while the next rungs train, not in the lull right after one finished.
        await sleep(1500);
        interrupted.push(await pendingActivities(stack, retrain));
        await killHard(worker);
        worker = stack.worker();
        restartedAt = Date.now();
      }
      const outcome = await retrainOutcome(retrain, PATIENCE_MS);
      if (restartedAt !== undefined) recoveries.push((Date.now() - restartedAt) / 1000);

      const audit = await auditRetrain(stack.mlflow, spec.name, spec.training.sweep.budget.maxTrials);
      const completed = !(outcome instanceof Error);
      return {
        name: 'worker-kill',
        survived:
          completed &&
          interrupted.length === kills &&
          audit.missingTrials === 0 &&
          audit.runningRuns === 0 &&
          audit.registeredVersions === 1,
        lost: audit.missingTrials,
        duplicated: audit.duplicateTrialRuns + Math.max(0, audit.registeredVersions - 1),
        recoverSeconds: Math.max(0, ...recoveries),
        details: {
          kills: interrupted.length,
          plannedKills: kills,
          activitiesUnderWayAtEachKill: interrupted,
          recoverSecondsEach: recoveries,
          outcome: completed ? outcome.outcome : outcome.message,
          ...audit,
        },
      };
    } finally {
      await stack.stop();
      await Promise.all([temporal.stop(), mlflow.stop()]);
    }
  },
};
