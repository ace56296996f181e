/**
 * What a lifecycle's history says about its cost in a time window: events, Temporal actions,
 * monitoring cycles (quiet or measured) and how long each cycle took from its timer firing to the
 * loop's next wait.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface WindowCost {
  events: number;
  actions: number;
  /** Local log checks: every cycle of a champion after its first runs one, quiet or not. */
  logChecks: number;
  /** Cycles that ran monitorChampion. */
  measuredCycles: number;
  /** Timer fired -> the loop's next timer started, per cycle. */
  cycleMs: number[];
  continuedAsNew: number;
}

const timeOf = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/**
 * Temporal Cloud's billable actions, as far as one history shows them: a workflow started, an
 * activity or local activity scheduled (a local activity's marker), a timer, a signal or update
 * received, a search-attribute upsert, a child workflow started, a continue-as-new.
 */
function isAction(e: HistoryEvent): boolean {
  return Boolean(
    e.workflowExecutionStartedEventAttributes ||
    e.activityTaskScheduledEventAttributes ||
    e.markerRecordedEventAttributes ||
    e.timerStartedEventAttributes ||
    e.workflowExecutionSignaledEventAttributes ||
    e.workflowExecutionUpdateAcceptedEventAttributes ||
    e.upsertWorkflowSearchAttributesEventAttributes ||
    e.startChildWorkflowExecutionInitiatedEventAttributes ||
    e.workflowExecutionContinuedAsNewEventAttributes,
  );
}

export function windowCost(events: HistoryEvent[], fromMs: number, toMs: number): WindowCost {
  const inWindow = events.filter((e) => timeOf(e) >= fromMs && timeOf(e) < toMs);
  const cycleMs: number[] = [];
  let firedAt: number | undefined;
  for (const e of inWindow) {
    if (e.timerFiredEventAttributes) firedAt = timeOf(e);
    else if (e.timerStartedEventAttributes && firedAt !== undefined) {
      cycleMs.push(timeOf(e) - firedAt);
      firedAt = undefined;
    }
  }
  return {
    events: inWindow.length,
    actions: inWindow.filter(isAction).length,
    logChecks: inWindow.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    measuredCycles: inWindow.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'monitorChampion').length,
    cycleMs,
    continuedAsNew: inWindow.filter((e) => e.workflowExecutionContinuedAsNewEventAttributes).length,
  };
}
