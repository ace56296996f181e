/**
 * The Temporal dev server killed with SIGKILL mid-retrain and, after a pause (5 s short, 60 s
 * full), started again on the same port and the same database file. The worker process and
 * the client ride it out; the retrain must finish as if nothing happened.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { isAlive } from '../processes.ts';
import { freePort, startTemporal } from '../services.ts';
import { auditRetrain } from './audit.ts';
import type { FaultResult, FaultScenario } from './fault.ts';
import { chaosDir, chaosSpec, chaosStack, mlflowFor, pendingActivities, retrainOutcome, sleep, untilRungsDone } from './harness.ts';

const PATIENCE_MS = 20 * 60_000;

/** SIGKILL to the dev server's process group, found by the pid file startTemporal keeps. */
async function killTemporal(dataDir: string) {
  const { pid } = JSON.parse(readFileSync(join(dataDir, 'temporal.pid'), 'utf8')) as { pid: number };
  process.kill(-pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

export const scenario: FaultScenario = {
  name: 'temporal-restart',
  async run({ full }): Promise<FaultResult> {
    const downMs = full ? 60_000 : 5_000;
    const spec = chaosSpec(full ? 8 : 4);
    const dir = chaosDir('temporal-restart');
    const mlflow = await mlflowFor(dir);
    // Fixed for the scenario: the restarted server must be found where the first one was.
    const temporalOptions = { dataDir: join(dir, 'temporal'), port: await freePort(), uiPort: await freePort() };
    let temporal = await startTemporal(temporalOptions);
    const stack = await chaosStack({ dir, temporalAddress: temporal.address, mlflowUrl: mlflow.url, spec });
    try {
      let worker = stack.worker();
      const retrain = await stack.startRetrain();
      const before = await untilRungsDone(stack, retrain, 1, PATIENCE_MS);
      const interrupted = await pendingActivities(stack, retrain);

      await killTemporal(temporalOptions.dataDir);
      await sleep(downMs);
      temporal = await startTemporal(temporalOptions);
      const restartedAt = Date.now();
      // The worker should have waited for the server; if it gave up, say so and start another.
      const workerSurvived = worker.exitCode === null;
      if (!workerSurvived) worker = stack.worker();

      const after = before && (await untilRungsDone(stack, retrain, before.rungsDone + 1, PATIENCE_MS));
      const recoverSeconds = (Date.now() - restartedAt) / 1000;
      const outcome = await retrainOutcome(retrain, PATIENCE_MS);

      const audit = await auditRetrain(stack.mlflow, spec.name, spec.training.sweep.budget.maxTrials);
      const completed = !(outcome instanceof Error);
      return {
        name: 'temporal-restart',
        survived:
          completed && before !== undefined && audit.missingTrials === 0 && audit.runningRuns === 0 && audit.registeredVersions === 1,
        lost: audit.missingTrials,
        duplicated: audit.duplicateTrialRuns + Math.max(0, audit.registeredVersions - 1),
        recoverSeconds,
        details: {
          downSeconds: downMs / 1000,
          killedDuringSweep: before !== undefined,
          rungsDoneAtKill: before?.rungsDone,
          activitiesUnderWayAtKill: interrupted,
          progressedAfterRestart: after !== undefined,
          workerSurvived,
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
