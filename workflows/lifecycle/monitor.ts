/**
 * One monitoring cycle of the lifecycle: the monitor activity summarises the log since the last
 * cycle, the policies judge the summary here, in workflow code (core/policy.ts), and a firing
 * rule requests a retrain. The entity (model-entity.ts monitorCycle) decides when it runs and
 * what a failed cycle means.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { evaluatePolicies } from '../../core/policy.ts';
import { findingAlerts } from '../../core/alerts.ts';
import { triggerOf } from '../../core/lifecycle/state.ts';
import { monitoringVerdict } from '../../core/lifecycle/fleet-view.ts';
import type { ModelEntity } from './model-entity.ts';

// A monitoring cycle that fails is skipped (see monitorCycle), so a few attempts are enough.
const { monitorChampion } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

export async function monitorOnce(lifecycle: ModelEntity, championVersion: string): Promise<void> {
  const { state, spec, model } = lifecycle;
  const result = await monitorChampion({
    spec,
    policies: lifecycle.policies(),
    championVersion,
    cursors: state.monitor,
    feedbackCursor: state.feedbackCursor,
    trainedThroughRecordId: state.trainedThroughRecordId,
    at: new Date().toISOString(),
  });
  state.monitor = result.cursors;
  state.feedbackCursor = result.cursors.feedback;
  state.lastSummary = result.summary;
  const verdict = evaluatePolicies(lifecycle.policies(), result.summary, state.policy, {
    nowMs: Date.now(),
    championSinceMs: state.championSinceMs,
    lastRetrainMs: state.lastRetrainMs,
  });
  state.policy = verdict.state;
  state.policyNotes = verdict.notes;
  lifecycle.lastVerdict = monitoringVerdict(verdict);
  // Drift and input anomalies are worth a person's attention whether or not a policy fires.
  for (const alert of findingAlerts(model, result.summary)) await lifecycle.notify(alert);
  if (verdict.fire) lifecycle.requestRetrain(triggerOf(verdict.fired));
}
