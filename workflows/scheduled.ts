/**
 * Started by the model's Temporal Schedule: asks the lifecycle for a retrain. A Schedule can
 * only start workflows, so this tiny one turns the tick into a signal.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { lifecycleWorkflowId, retrainSignal } from '../core/messages.ts';

export async function scheduledRetrain(model: string): Promise<void> {
  await getExternalWorkflowHandle(lifecycleWorkflowId(model)).signal(retrainSignal, {
    reason: 'scheduled periodic retraining',
    requestedBy: 'schedule',
  });
}
