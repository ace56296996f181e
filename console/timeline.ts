/**
 * The lifecycle's decisions (its status query's history) sorted into the events a reviewer
 * scans for: a retrain starting (with its trigger), a promotion, a rollback, a failure.
 */
import type { Decision } from '../core/messages.ts';

export type EventKind = 'retrain' | 'promotion' | 'rollback' | 'failure';

export const EVENT_COLORS: Record<EventKind, string> = {
  retrain: '#f58518',
  promotion: '#54a24b',
  rollback: '#e45756',
  failure: '#b279a2',
};

/** The kind of a lifecycle decision, by the words workflows/lifecycle/ records; undefined for the rest. */
export function eventKind(what: string): EventKind | undefined {
  if (/^retrain #\d+ started/.test(what)) return 'retrain';
  if (/^retrain #\d+: promoted/.test(what)) return 'promotion';
  if (/^rolled back/.test(what) || /^retrain #\d+: (rolled-back|rejected-in-shadow)/.test(what)) return 'rollback';
  if (/^retrain #\d+: failed/.test(what) || /^monitoring cycle failed/.test(what)) return 'failure';
  return undefined;
}

/** The retrain a decision is about (`retrain #3 ...`), for a link to its workflow. */
export function retrainNumber(what: string): number | undefined {
  const match = /^retrain #(\d+)/.exec(what);
  return match ? Number(match[1]) : undefined;
}

export interface TimelineEvent {
  at: string;
  kind: EventKind;
  what: string;
}

export function timelineEvents(history: Decision[]): TimelineEvent[] {
  return history.flatMap((d) => {
    const kind = eventKind(d.what);
    return kind ? [{ at: d.at, kind, what: d.what }] : [];
  });
}
