/**
 * The training permits workflow's holder check: which sweeps holding a permit have ended
 * without releasing it (terminated, timed out). Asked of Temporal through the worker's own
 * client, one describe per holder: holders are at most the limit, so the check stays cheap
 * however long the queue (a waiter that ended is dropped when its turn comes).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { PermitRequest } from '../core/training-permits.ts';

export function trainingPermitActivities() {
  return {
    async closedPermitHolders(holders: Pick<PermitRequest, 'sweepWorkflowId' | 'runId'>[]): Promise<string[]> {
      const { client } = Context.current();
      const ended: string[] = [];
      for (const { sweepWorkflowId, runId } of holders) {
        try {
          const { status } = await client.workflow.getHandle(sweepWorkflowId, runId).describe();
          if (status.name !== 'RUNNING') ended.push(sweepWorkflowId);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          ended.push(sweepWorkflowId);
        }
      }
      return ended;
    },
  };
}
