/**
 * A rollback of the lifecycle's champion to an earlier version, as the entity's main loop
 * applies it (model-entity.ts applyRollbacks). A rollback that cannot happen is refused and
 * recorded; the lifecycle carries on.
 */
import { patched, proxyActivities, rootCause, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { ChampionVersionKey, type RollbackRequest } from '../../core/messages.ts';
import { rollbackTarget } from '../../core/lifecycle/state.ts';
import { SHORT_CALL } from '../activity-options.ts';
import { SAFE_ROLLBACK_PATCH } from '../legacy/patches.ts';
import { uncheckedRollback } from '../legacy/unchecked-rollback.ts';
import { legacyUpserts } from './fleet-view.ts';
import type { ModelEntity, RollbackOutcome } from './model-entity.ts';

const { deploy, promoteChampion, registeredVersion } = proxyActivities<Activities>(SHORT_CALL);

export async function applyRollback(lifecycle: ModelEntity, request: RollbackRequest): Promise<RollbackOutcome> {
  const { model, state } = lifecycle;
  const target = rollbackTarget(state, request);
  if (!patched(SAFE_ROLLBACK_PATCH)) return uncheckedRollback(lifecycle, request, target);
  const champion = state.championVersion;
  if (!target || target === champion)
    return refuseRollback(lifecycle, request, target ? `v${target} is already the champion` : 'no earlier champion to return to');
  if (!(await registeredVersion({ model, version: target })))
    return refuseRollback(lifecycle, request, `toVersion: ${target} is not a registered version of ${model}`);
  let deployed = false;
  try {
    await deploy({ model, champion: target, reason: `rollback by ${request.requestedBy}: ${request.reason}` });
    deployed = true;
    await promoteChampion({ model, version: target, previous: champion, rolledBack: true });
  } catch (err) {
    // Nothing half-applied: the champion goes back into service alone.
    if (deployed && champion) await deploy({ model, champion, reason: `rollback to v${target} failed` }).catch(() => undefined);
    return refuseRollback(lifecycle, request, `v${target} could not be put in service: ${rootCause(err as Error)}`);
  }
  return rolledBack(lifecycle, request, target);
}

async function refuseRollback(lifecycle: ModelEntity, request: RollbackRequest, why: string): Promise<RollbackOutcome> {
  lifecycle.record(`rollback refused: ${why}`, `${request.requestedBy}: ${request.reason}`);
  await lifecycle.notify({
    kind: 'rollback',
    title: `rollback of ${lifecycle.model} refused`,
    text: `${why}\n${request.requestedBy}: ${request.reason}`,
  });
  return { ok: false, message: why };
}

/** `target` is in service and registered as champion: the state follows. */
export async function rolledBack(lifecycle: ModelEntity, request: RollbackRequest, target: string): Promise<RollbackOutcome> {
  const { model, state } = lifecycle;
  const message = `rolled back from v${state.championVersion} to v${target}`;
  lifecycle.record(message, `${request.requestedBy}: ${request.reason}`);
  await lifecycle.notify({
    kind: 'rollback',
    title: `${model} rolled back from v${state.championVersion} to v${target}`,
    text: `${request.requestedBy}: ${request.reason}`,
  });
  state.previousChampions = state.previousChampions.filter((v) => v !== target);
  state.championVersion = target;
  state.championSinceMs = Date.now();
  state.championTrainedThrough = undefined;
  if (legacyUpserts()) upsertSearchAttributes([{ key: ChampionVersionKey, value: target }]);
  return { ok: true, message };
}
