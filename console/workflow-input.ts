/**
 * What a retrain was started with, read from the first event of its history: the spec the
 * workflow itself judges reviewers by (approval.reviewers and groups), its trigger with the
 * numbers that fired it, and the canary plan. Decoded with the client's data converter, so a
 * payload codec in use (codec/) is honoured.
 */
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { TriggerValues } from '../core/contracts.ts';
import type { ModelSpec } from '../core/spec.ts';

/** The retrain workflow's input (workflows/retrain.ts RetrainInput), as far as the console reads it. */
export interface RetrainStart {
  spec: ModelSpec;
  n: number;
  trigger: { reason: string; rules: string[]; values?: TriggerValues };
  championVersion?: string;
}

export async function retrainStart(temporal: Client, workflowId: string, runId?: string): Promise<RetrainStart> {
  const { history } = await temporal.workflowService.getWorkflowExecutionHistory({
    namespace: temporal.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`${workflowId}: its history does not begin with the workflow's start`);
  return decodeFromPayloadsAtIndex<RetrainStart>(temporal.options.loadedDataConverter, 0, started.input?.payloads);
}
