/**
 * Alerts from workflow code: `createNotifier(spec)` gives a workflow a `notify` that sends an
 * alert through the sendAlert activity when a channel of the spec listens for its kind, and
 * does nothing otherwise (so specs without alerts add nothing to workflow histories).
 * An alert never fails its workflow: delivery problems are logged, retries are the activity's.
 */
import { deprecatePatch, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { type Alert, listens } from '../core/alerts.ts';
import type { ModelSpec } from '../core/spec.ts';
import { ALERTS_PATCH } from './legacy/patches.ts';

const { sendAlert } = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5 } });

export function createNotifier(spec: ModelSpec) {
  let sent = 0;
  return async function notify(alert: Omit<Alert, 'model'>): Promise<void> {
    // Workflow inputs recorded before the alerts field existed have no spec.alerts.
    if (!spec.alerts || !listens(spec.alerts, alert.kind)) return;
    deprecatePatch(ALERTS_PATCH);
    const { workflowId, runId } = workflowInfo();
    // Unique per alert of this run and identical on replay: the activity's idempotency key.
    const alertId = `${workflowId}/${runId}/${++sent}`;
    try {
      await sendAlert({ alerts: spec.alerts, alert: { ...alert, model: spec.name }, alertId });
    } catch (err) {
      log.warn('alert not delivered', { kind: alert.kind, alertId, error: (err as Error).message });
    }
  };
}
