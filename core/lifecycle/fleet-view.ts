/**
 * What one lifecycle shows the fleet view (`perennial list`) through its search attributes:
 * its stage, champion, last trigger and last monitoring verdict. PURE: the lifecycle
 * (workflows/lifecycle/fleet-view.ts) upserts these values when they change, and the client
 * reads them back for every model in one visibility query.
 */
import type { PolicyVerdict } from '../policy.ts';
import type { LifecycleState } from './state.ts';

/**
 * Where a lifecycle stands. `starting` is set by the client when it starts the workflow, so a
 * new model is listed at once; the lifecycle replaces it as soon as it has something to say.
 * While `retraining`, the retrain child's own `Stage` attribute (snapshot ... awaiting-approval,
 * canary ...) says how far it got.
 */
export type LifecycleStage = 'starting' | 'monitoring' | 'retraining' | 'retry-wait' | 'paused' | 'no-champion';

export interface FleetView {
  stage: LifecycleStage;
  champion?: string;
  /** The rules of the last retrain's trigger, comma-separated (as the retrain's TriggerReason). */
  lastTrigger?: string;
  lastVerdict?: string;
}

export function lifecycleStage(state: LifecycleState, retrainRunning: boolean): LifecycleStage {
  if (retrainRunning) return 'retraining';
  if (state.retry) return 'retry-wait';
  if (state.paused) return 'paused';
  if (!state.championVersion) return 'no-champion';
  return 'monitoring';
}

/** The verdict of a monitoring cycle whose activity failed (the next cycle tries again). */
export const CYCLE_FAILED = 'cycle failed';

// Keyword values are indexed whole: keep them short enough to read in a table and to filter on.
const MAX_VERDICT = 100;

/**
 * A monitoring cycle's verdict in a few words: `fired: <rules>` (a retrain is requested),
 * `breached: <rules>` (held without firing yet: sensitivity or cooldown), or `ok`. Stable from
 * one quiet cycle to the next, so a steady model costs no history event.
 */
export function monitoringVerdict(verdict: Pick<PolicyVerdict, 'fired' | 'breached'>): string {
  const said = verdict.fired.length
    ? `fired: ${verdict.fired.map((f) => f.rule).join(',')}`
    : verdict.breached.length
      ? `breached: ${verdict.breached.join(',')}`
      : 'ok';
  return said.length > MAX_VERDICT ? `${said.slice(0, MAX_VERDICT - 1)}…` : said;
}
