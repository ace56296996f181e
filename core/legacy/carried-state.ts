/**
 * LEGACY: lifecycle state as runs from before the `policy-rules-v2` patch carried it across
 * continue-as-new, and its conversion to today's LifecycleState. A run that starts from carried
 * state converts it once (workflows/lifecycle.ts), so everything after works on v2 types only.
 *
 * Why it stays: a lifecycle that continued-as-new onto v2 code may still carry v1 policy state
 * in its input; replaying such a run, or continuing it, starts here. Delete once every running
 * lifecycle has continued-as-new from a run that started on v2 code.
 */
import type { MonitoringSummary } from '../monitoring.ts';
import type { PolicyState } from '../policy.ts';
import type { LifecycleState } from '../lifecycle/state.ts';

/** Policy state before policy-rules-v2: consecutive breaching cycles per rule, and the cooldown. */
export interface PolicyStateV1 {
  breaches: Record<string, number>;
  cooldownUntil: number;
}

/** A continue-as-new input's state: today's, or one carried over from a pre-v2 run. */
export type CarriedLifecycleState = Omit<LifecycleState, 'policy' | 'lastSummary'> & {
  policy: PolicyState | PolicyStateV1;
  /** A v1 summary (no `version` field) in state carried from a pre-v2 run. */
  lastSummary?: MonitoringSummary | { version?: undefined };
};

/**
 * Today's state from carried state. The v1 breach counters do not carry over: the v2 code
 * started a carried v1 lifecycle's first cycle from empty windows (keeping the cooldown), and
 * a promotion or a policy change emptied them too, so nothing decides differently. What the
 * status query shows before that first cycle does change: no breach counts, and no last
 * summary (a v1 summary is not a MonitoringSummary, and the next cycle replaces it).
 */
export function fromCarriedState(carried: CarriedLifecycleState): LifecycleState {
  const { policy, lastSummary, ...rest } = carried;
  return {
    ...rest,
    policy: 'windows' in policy ? policy : { windows: {}, cooldownUntil: policy.cooldownUntil },
    lastSummary: lastSummary?.version === 2 ? lastSummary : undefined,
  };
}
