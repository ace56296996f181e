/**
 * The lifecycle's search attributes for the fleet view: `perennial list` reads every model's
 * stage, champion, last trigger and last verdict in one visibility query. Each upsert is a
 * history event and a fleet pays per event, so only values that differ from what the workflow
 * already carries (set by the client at start, upserted earlier, or copied across
 * continue-as-new) are sent, in one upsert with the time of the change.
 */
import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ChampionVersionKey, LastVerdictKey, ModelNameKey, StageKey, StatusChangedAtKey, TriggerReasonKey } from '../../core/messages.ts';
import type { FleetView } from '../../core/lifecycle/fleet-view.ts';
import { FLEET_VIEW_PATCH } from '../legacy/patches.ts';

/** Upserts what changed in `view` (an undefined value leaves its attribute as it is). */
export function publishFleetView(model: string, view: FleetView): void {
  if (!patched(FLEET_VIEW_PATCH)) return;
  const current = workflowInfo().typedSearchAttributes;
  const wanted = [
    { key: ModelNameKey, value: model },
    { key: StageKey, value: view.stage },
    { key: ChampionVersionKey, value: view.champion },
    { key: TriggerReasonKey, value: view.lastTrigger },
    { key: LastVerdictKey, value: view.lastVerdict },
  ];
  const changed = wanted.filter((p): p is typeof p & { value: string } => p.value !== undefined && current.get(p.key) !== p.value);
  if (changed.length === 0) return;
  upsertSearchAttributes([...changed, { key: StatusChangedAtKey, value: new Date() }]);
}

/**
 * Before the fleet view, the lifecycle upserted ModelName, ChampionVersion and TriggerReason
 * where they changed, one event each; now publishFleetView sends them together. Histories
 * recorded before replay these upserts where they were.
 */
export const legacyUpserts = (): boolean => !patched(FLEET_VIEW_PATCH);
