/**
 * All activities, built around one ActivityContext. Workflows type their proxies with
 * `Activities`, so a renamed or retyped activity fails to compile instead of at run time.
 *
 * Two things hold for every activity (workflows/activity-options.ts relies on them):
 * - every one heartbeats every few seconds (trial rungs do it themselves, with
 *   their progress), so a lost worker is noticed within the heartbeat timeout instead of a
 *   long start-to-close, and a slow but live call is not mistaken for a lost one;
 * - MLflow refusing a request (4xx other than 408/429) is bad input, which retrying cannot fix:
 *   it becomes the non-retryable `MlflowRequestRefused`. An unreachable or failing MLflow (no
 *   answer, 5xx) stays retryable, so an outage is ridden out.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { alertActivities } from './alerts.ts';
import type { ActivityContext } from './context.ts';
import { dataActivities } from './data.ts';
import { evaluationGateActivities } from './evaluation-gates.ts';
import { deploymentActivities } from './deployment.ts';
import { MlflowError } from '../adapters/mlflow/client.ts';
import { monitorActivities } from './monitor.ts';
import { monitorCheckActivities } from './monitor-check.ts';
import { trackingActivities } from './tracking.ts';
import { trainingActivities } from './training.ts';
import { trainingPermitActivities } from './training-permits.ts';
import { trialActivities } from './trials.ts';
import { sweepHistoryActivities } from './sweep-history.ts';
import { specCheckActivities } from './spec-check.ts';

/** Activities that heartbeat themselves, with details a retry resumes from. */
const OWN_HEARTBEATS = new Set(['trainTrialRung']);
const HEARTBEAT_EVERY_MS = 5_000;

export function createActivities(ctx: ActivityContext) {
  const activities = {
    ...trackingActivities(ctx),
    ...dataActivities(ctx),
    ...trainingActivities(ctx),
    ...evaluationGateActivities(ctx),
    ...trialActivities(ctx),
    ...sweepHistoryActivities(ctx),
    ...specCheckActivities(),
    ...monitorActivities(ctx),
    ...monitorCheckActivities(ctx),
    ...deploymentActivities(ctx),
    ...alertActivities(ctx),
    ...trainingPermitActivities(),
  };
  for (const [name, activity] of Object.entries(activities)) {
    (activities as Record<string, unknown>)[name] = guarded(
      activity as (...args: unknown[]) => Promise<unknown>,
      !OWN_HEARTBEATS.has(name),
    );
  }
  return activities;
}

/** The running activity's context; undefined when called in-process (benchmarks, tests). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function guarded(activity: (...args: unknown[]) => Promise<unknown>, heartbeat: boolean) {
  return async (...args: unknown[]) => {
    const context = activityContext();
    const beating = heartbeat && context ? setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS) : undefined;
    try {
      return await activity(...args);
    } catch (err) {
      if (context && err instanceof MlflowError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
        throw ApplicationFailure.create({ message: err.message, type: 'MlflowRequestRefused', nonRetryable: true, cause: err });
      }
      throw err;
    } finally {
      clearInterval(beating);
    }
  };
}

export type Activities = ReturnType<typeof createActivities>;
