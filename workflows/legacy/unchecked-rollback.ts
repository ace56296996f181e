/**
 * LEGACY: a rollback as lifecycles recorded before the `refuse-bad-rollbacks` patch applied it:
 * unchecked, so an unknown or unloadable version failed the lifecycle. Kept because lifecycles
 * recorded by v3-era code may still be running (workflows/legacy/patches.ts); replaying a
 * rollback they took must issue the same commands.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import type { RollbackRequest } from '../../core/messages.ts';
import { SHORT_CALL } from '../activity-options.ts';
import type { ModelEntity, RollbackOutcome } from '../lifecycle/model-entity.ts';
import { rolledBack } from '../lifecycle/rollback.ts';

const { deploy, promoteChampion } = proxyActivities<Activities>(SHORT_CALL);

export async function uncheckedRollback(
  lifecycle: ModelEntity,
  request: RollbackRequest,
  target: string | undefined,
): Promise<RollbackOutcome> {
  const { model, state } = lifecycle;
  if (!target || target === state.championVersion) {
    lifecycle.record('rollback ignored: no earlier champion to return to', request.reason);
    return { ok: false, message: 'no earlier champion to return to' };
  }
  await deploy({ model, champion: target, reason: `rollback by ${request.requestedBy}: ${request.reason}` });
  await promoteChampion({ model, version: target, previous: state.championVersion, rolledBack: true });
  return rolledBack(lifecycle, request, target);
}
