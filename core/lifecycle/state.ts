/**
 * What a model's lifecycle remembers and the decisions it takes on that memory alone: how
 * triggers coalesce, which triggers a promotion makes stale, when a failed retrain is tried
 * again, what the status query shows. PURE: workflows/lifecycle/ applies these decisions and
 * issues the commands; unit tests check them without a Temporal server.
 */
import type { Decision, LifecycleStatus, RollbackRequest } from '../messages.ts';
import type { MonitoringSummary } from '../monitoring.ts';
import { type FiredRule, initialPolicyState, type PolicySpec, type PolicyState } from '../policy.ts';
import type { MonitorCursors, TriggerValues } from '../contracts.ts';
import { parseDuration } from '../duration.ts';
import type { OnlineState } from '../online.ts';

/** Why a retrain is wanted: a sentence for people, rule names for search attributes. */
export interface Trigger {
  reason: string;
  rules: string[];
  /** Per fired policy rule, the values that made it fire. */
  values?: TriggerValues;
}

/** Everything the lifecycle carries across continue-as-new: plain JSON. */
export interface LifecycleState {
  championVersion?: string;
  previousChampions: string[];
  retrainCount: number;
  paused: boolean;
  /** Sensitivity windows and cooldown. */
  policy: PolicyState;
  /** Policies set at run time by the setPolicies update; spec.policies until then. */
  policies?: PolicySpec;
  /** Where monitoring of the current champion stands: cycle count, log cursors, detector states. */
  monitor?: MonitorCursors;
  championSinceMs?: number;
  /** The last record id the champion learned from; unknown after a rollback. */
  championTrainedThrough?: number;
  lastRetrainMs?: number;
  policyNotes?: string[];
  feedbackCursor: number;
  trainedThroughRecordId: number;
  pendingTrigger?: Trigger;
  /** A failed retrain's trigger, due again at `atMs` (RETRAIN_RETRY_DELAYS); `failures` so far. */
  retry?: { trigger: Trigger; failures: number; atMs: number };
  rollbacks: RollbackRequest[];
  /** The online training mode's count of updates since the last full retrain (core/online.ts). */
  online?: OnlineState;
  lastSummary?: MonitoringSummary;
  history: Decision[];
}

export const initialLifecycleState = (): LifecycleState => ({
  previousChampions: [],
  retrainCount: 0,
  paused: false,
  policy: initialPolicyState(),
  feedbackCursor: 0,
  trainedThroughRecordId: 0,
  rollbacks: [],
  history: [],
});

/** Decisions kept in the status query and carried across continue-as-new. */
export const HISTORY_LIMIT = 50;

/**
 * The retry policy of a failed retrain (one that threw, not one that decided against its
 * challenger, nor one cancelled by a person): the same trigger again after each of these
 * delays, then it is given up and the next trigger starts afresh. Activities already ride out
 * 15 minutes of outage, so a failure here is rarely transient; two more attempts tell.
 */
export const RETRAIN_RETRY_DELAYS = ['1m', '5m'];

/** When a retrain that failed `failures` times is tried again; undefined once it is given up. */
export function retryAfter(failures: number, nowMs: number): { delay: string; atMs: number } | undefined {
  const delay = RETRAIN_RETRY_DELAYS[failures - 1];
  return delay ? { delay, atMs: nowMs + parseDuration(delay) } : undefined;
}

/** A trigger while another waits does not queue a second retrain: the two become one follow-up. */
export function coalesce(pending: Trigger | undefined, trigger: Trigger): Trigger {
  if (!pending) return trigger;
  // The same policies breaching again: keep the latest evidence, not a growing list.
  if (pending.rules.join() === trigger.rules.join() && !trigger.rules.includes('manual')) return trigger;
  return { reason: `${pending.reason}; ${trigger.reason}`, rules: [...new Set([...pending.rules, ...trigger.rules])] };
}

/** Rules that people and the schedule stand behind: a new champion does not make them stale. */
const STANDING_RULES = ['manual', 'schedule'];

/**
 * After a promotion: policy breaches measured the old champion, so the new one must earn its
 * own. Returns the pending trigger that still stands (undefined when none does); `dropped` says
 * whether any policy rule was taken out of it.
 */
export function withoutStaleTriggers(pending: Trigger | undefined, version: string): { pending?: Trigger; dropped: boolean } {
  if (!pending) return { pending, dropped: false };
  const standing = pending.rules.filter((r) => STANDING_RULES.includes(r));
  if (standing.length === pending.rules.length) return { pending, dropped: false };
  return {
    pending: standing.length
      ? { reason: `${pending.reason} (policy triggers dropped: new champion v${version})`, rules: standing }
      : undefined,
    dropped: true,
  };
}

/** Pausing stops policy-triggered retrains; a person asking for one (or initial training) still gets it. */
export const mayStart = (trigger: Trigger, paused: boolean) => !paused || trigger.rules.some((r) => r === 'manual' || r === 'initial');

/** The trigger of a `retrain` signal: a person's, or the Temporal Schedule's. */
export function requestedTrigger(requestedBy: string, reason: string): Trigger {
  const schedule = requestedBy === 'schedule';
  return { reason: `${schedule ? 'schedule' : `manual (${requestedBy})`}: ${reason}`, rules: [schedule ? 'schedule' : 'manual'] };
}

/** The trigger of policy rules that fired in a monitoring cycle. */
export function triggerOf(fired: FiredRule[]): Trigger {
  return {
    reason: fired.map((f) => f.reason).join('; '),
    rules: fired.map((f) => f.rule),
    values: Object.fromEntries(fired.map((f) => [f.rule, f.values])),
  };
}

/** The version a rollback returns to: the one named, or else the previous champion. */
export const rollbackTarget = (state: LifecycleState, request: RollbackRequest): string | undefined =>
  request.toVersion ?? state.previousChampions[0];

/** Why a rollback request cannot even be accepted (the rollback update's validator), or undefined. */
export function rollbackRefusal(model: string, state: LifecycleState, request: RollbackRequest): string | undefined {
  const target = rollbackTarget(state, request);
  if (!target) return `toVersion: ${model} has no earlier champion to return to; name a version`;
  if (target === state.championVersion) return `toVersion: v${target} is already the champion of ${model}`;
  return undefined;
}

/** Per rule, how many breaches count toward firing now. */
export function breachCounts(policy: PolicyState): Record<string, number> {
  return Object.fromEntries(Object.entries(policy.windows).map(([rule, window]) => [rule, window.filter(Boolean).length]));
}

/** What the status query shows: the carried state plus what is happening right now. */
export function lifecycleStatus(
  model: string,
  state: LifecycleState,
  policies: PolicySpec,
  now: { monitoringNow: boolean; activeRetrain?: { workflowId: string; trigger: string } },
): LifecycleStatus {
  return {
    model,
    paused: state.paused,
    monitoringNow: now.monitoringNow,
    championVersion: state.championVersion,
    previousChampions: state.previousChampions,
    activeRetrain: now.activeRetrain ? { ...now.activeRetrain, stage: 'running' } : undefined,
    pendingTrigger: state.pendingTrigger?.reason,
    retrainCount: state.retrainCount,
    lastSummary: state.lastSummary,
    policies,
    breaches: breachCounts(state.policy),
    policyNotes: state.policyNotes ?? [],
    cooldownUntil: state.policy.cooldownUntil ? new Date(state.policy.cooldownUntil).toISOString() : undefined,
    retryAt: state.retry ? new Date(state.retry.atMs).toISOString() : undefined,
    online: state.online,
    history: state.history,
  };
}
