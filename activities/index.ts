/**
 * All activities, built around one ActivityContext. Workflows type their proxies with
 * `Activities`, so a renamed or retyped activity fails to compile instead of at run time.
 */
import { alertActivities } from './alerts.ts';
import type { ActivityContext } from './context.ts';
import { dataActivities } from './data.ts';
import { deploymentActivities } from './deployment.ts';
import { monitorActivities } from './monitor.ts';
import { monitoringActivities } from './monitoring.ts';
import { trackingActivities } from './tracking.ts';
import { trainingActivities } from './training.ts';
import { trialActivities } from './trials.ts';

export function createActivities(ctx: ActivityContext) {
  return {
    ...trackingActivities(ctx),
    ...dataActivities(ctx),
    ...trainingActivities(ctx),
    ...trialActivities(ctx),
    ...monitoringActivities(ctx),
    ...monitorActivities(ctx),
    ...deploymentActivities(ctx),
    ...alertActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;
