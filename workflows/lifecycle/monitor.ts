/**
 * One monitoring cycle of the lifecycle: the monitor activity summarises the log since the last
 * cycle, the policies judge the summary here, in workflow code (core/policy.ts), and a firing
 * rule requests a retrain; a cycle with nothing new in the log skips the activity
 * (core/lifecycle/quiet-cycle.ts). The entity (model-entity.ts monitorCycle) decides when it runs and
 * what a failed cycle means.
 */
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { evaluatePolicies } from '../../core/policy.ts';
import { findingAlerts } from '../../core/alerts.ts';
import { triggerOf } from '../../core/lifecycle/state.ts';
import { isOnlineMode, onlineSettings, onlineTrigger } from '../../core/online.ts';
import { monitoringVerdict } from '../../core/lifecycle/fleet-view.ts';
import { isQuiet, quietSummary } from '../../core/lifecycle/quiet-cycle.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { QUIET_CYCLES_PATCH } from '../legacy/patches.ts';
import type { ModelEntity } from './model-entity.ts';

// A monitoring cycle that fails is skipped (see monitorCycle), so a few attempts are enough.
const { monitorChampion } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

// Three indexed reads: a local activity, recorded as one marker inside the workflow task.
const { logPosition } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 3 } });

export async function monitorOnce(lifecycle: ModelEntity, championVersion: string): Promise<void> {
  const { state } = lifecycle;
  if (patched(QUIET_CYCLES_PATCH) && state.lastSummary) {
    const log = await logPosition({ model: lifecycle.model, trainedThroughRecordId: state.trainedThroughRecordId });
    if (isQuiet(log, state.monitor, championVersion)) {
      return judge(lifecycle, quietSummary(state.lastSummary, new Date().toISOString(), log.newLabels), { quiet: true });
    }
  }
  await measure(lifecycle, championVersion);
}

/** The full cycle: the monitor activity summarises the log since the cursors and moves them on. */
async function measure(lifecycle: ModelEntity, championVersion: string): Promise<void> {
  const { state, spec } = lifecycle;
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
  await judge(lifecycle, result.summary, { quiet: false });
}

/**
 * The policies judge the cycle's summary. A quiet cycle's summary (nothing new) is judged but not
 * kept: the status query goes on showing the last cycle that measured something, and a quiet
 * cycle has no findings to alert on.
 */
async function judge(lifecycle: ModelEntity, summary: MonitoringSummary, { quiet }: { quiet: boolean }): Promise<void> {
  const { state, model } = lifecycle;
  const verdict = evaluatePolicies(lifecycle.policies(), summary, state.policy, {
    nowMs: Date.now(),
    championSinceMs: state.championSinceMs,
    lastRetrainMs: state.lastRetrainMs,
  });
  state.policy = verdict.state;
  state.policyNotes = verdict.notes;
  lifecycle.lastVerdict = monitoringVerdict(verdict);
  // Drift and input anomalies are worth a person's attention whether or not a policy fires.
  if (!quiet) for (const alert of findingAlerts(model, summary)) await lifecycle.notify(alert);
  if (verdict.fire) lifecycle.requestRetrain(triggerOf(verdict.fired));
  else if (isOnlineMode(lifecycle.spec) && state.championVersion) {
    // No policy asks for a full retrain: in the online mode, a batch of new labels makes an update.
    const update = onlineTrigger(onlineSettings(lifecycle.spec), state.online, {
      newLabels: summary.newLabels,
      championVersion: state.championVersion,
      busy: lifecycle.retrainBusy(),
    });
    if (update) lifecycle.requestRetrain(update);
  }
}
