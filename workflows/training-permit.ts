/**
 * A sweep's side of the training permits (workflows/training-permits.ts): ask, wait for the
 * grant, train, give the permit back, also when cancelled or failed. Without a permits workflow
 * (nobody set a limit in this namespace) the request fails at once and the sweep trains without
 * waiting; the failure is in the sweep's history, so replay takes the same path.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  permitGrantedSignal,
  permitQueuedSignal,
  releasePermitSignal,
  requestPermitSignal,
  TRAINING_PERMITS_WORKFLOW_ID,
  waitingForPermit,
} from '../core/training-permits.ts';

/** Runs `train` under a training permit; `onWait` gets the status line while waiting, then undefined. */
export async function withTrainingPermit<T>(
  model: string,
  onWait: (line: string | undefined) => void,
  train: () => Promise<T>,
): Promise<T> {
  let granted = false;
  setHandler(permitGrantedSignal, () => void (granted = true));
  setHandler(permitQueuedSignal, ({ ahead }) => {
    if (!granted) onWait(waitingForPermit(ahead, true));
  });
  const permits = getExternalWorkflowHandle(TRAINING_PERMITS_WORKFLOW_ID);
  const { workflowId: sweepWorkflowId, runId } = workflowInfo();
  try {
    await permits.signal(requestPermitSignal, { sweepWorkflowId, runId, model });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.info('no training limit in this namespace: training without a permit', { reason: (err as Error).message });
    return train();
  }
  try {
    onWait('waiting for a training permit');
    await condition(() => granted);
    onWait(undefined);
    return await train();
  } finally {
    // A holder that cannot release (the permits workflow was terminated) is forgotten with it.
    await CancellationScope.nonCancellable(() =>
      permits
        .signal(releasePermitSignal, { sweepWorkflowId })
        .catch((err: Error) => log.warn('could not release the training permit', { reason: err.message })),
    );
  }
}
