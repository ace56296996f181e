/**
 * Starting a retrain child of the lifecycle (ID `model/<name>/retrain/<n>`): announced in the
 * lifecycle's history and alerts, labelled for the Temporal UI, cancelled if the lifecycle
 * closes. The entity (model-entity.ts) watches the returned result.
 */
import { ParentClosePolicy, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import { ModelNameKey, retrainWorkflowId, StageKey, TriggerReasonKey } from '../../core/messages.ts';
import type { Trigger } from '../../core/lifecycle/state.ts';
import { retrain, type RetrainResult } from '../retrain.ts';
import { legacyUpserts } from './fleet-view.ts';
import type { ModelEntity } from './model-entity.ts';

export async function startRetrainChild(
  lifecycle: ModelEntity,
  n: number,
  trigger: Trigger,
): Promise<{ workflowId: string; result: Promise<RetrainResult> }> {
  const { model, spec, state } = lifecycle;
  const workflowId = retrainWorkflowId(model, n);
  lifecycle.record(`retrain #${n} started`, trigger.reason);
  await lifecycle.notify({
    kind: 'retrain',
    title: `Retrain #${n} of ${model} started`,
    text: trigger.reason,
    fields: { rules: trigger.rules.join(', ') },
  });
  if (legacyUpserts()) upsertSearchAttributes([{ key: TriggerReasonKey, value: trigger.rules.join(',') }]);
  const handle = await startChild(retrain, {
    workflowId,
    args: [{ spec, n, trigger, championVersion: state.championVersion, championTrainedThrough: state.championTrainedThrough }],
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: [
      { key: ModelNameKey, value: model },
      { key: TriggerReasonKey, value: trigger.rules.join(',') },
      { key: StageKey, value: 'snapshot' },
    ],
    staticSummary: `retrain #${n} of ${model}: ${trigger.reason}`.slice(0, 200),
    memo: { trigger: { reason: trigger.reason.slice(0, 2000), rules: trigger.rules, values: trigger.values ?? {} } },
  });
  return { workflowId, result: handle.result() };
}
