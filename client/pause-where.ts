/**
 * `perennial pause|resume --where <query>` (or `--all`): the lifecycles come from ONE visibility
 * query over their search attributes (the fleet view's: Stage, ChampionVersion, LastVerdict...),
 * then each is signalled. Whether a model is paused is read from its Stage attribute: a lifecycle
 * that retrains (or waits to retry) shows that stage instead, so it is signalled either way; the
 * signals are idempotent. Visibility is eventually consistent: a model paused a moment ago may
 * still be listed as monitoring.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { ModelNameKey, StageKey } from '../core/messages.ts';
import type { LifecycleStage } from '../core/lifecycle/fleet-view.ts';
import type { PerennialClient } from './client.ts';

/** A --where that Temporal refuses (syntax, an unknown attribute); nothing was signalled. */
export class BulkQueryError extends Error {
  override name = 'BulkQueryError';
}

export interface SelectedLifecycle {
  model: string;
  /** The lifecycle's Stage attribute; '' for one started before the fleet view. */
  stage: string;
}

/** gRPC's status for a request the server refuses as malformed (here: the visibility query). */
const INVALID_ARGUMENT = 3;

const RUNNING_LIFECYCLES = "WorkflowType = 'modelLifecycle' AND ExecutionStatus = 'Running'";

/** The running lifecycles that `where` selects (every one when undefined), by model name. */
export async function selectLifecycles(temporal: Client, where: string | undefined): Promise<SelectedLifecycle[]> {
  if (where !== undefined && !where.trim())
    throw new BulkQueryError('--where needs a visibility query, e.g. --where "Stage = \'monitoring\'"');
  const query = where === undefined ? RUNNING_LIFECYCLES : `${RUNNING_LIFECYCLES} AND (${where})`;
  const selected: SelectedLifecycle[] = [];
  try {
    for await (const wf of temporal.workflow.list({ query })) {
      const model = wf.typedSearchAttributes.get(ModelNameKey);
      // Checked again here: a --where with unbalanced parentheses could widen the query past lifecycles.
      if (!model || wf.type !== 'modelLifecycle' || wf.status.name !== 'RUNNING') continue;
      selected.push({ model, stage: wf.typedSearchAttributes.get(StageKey) ?? '' });
    }
  } catch (err) {
    const cause = (err as Error).cause;
    if (where !== undefined && isGrpcServiceError(cause) && cause.code === INVALID_ARGUMENT)
      throw new BulkQueryError(`--where "${where}" is not a query Temporal accepts: ${cause.details}`);
    throw err;
  }
  return selected.sort((a, b) => a.model.localeCompare(b.model));
}

export type PauseAction = 'pause' | 'resume';

export interface BulkPauseResult {
  changed: string[];
  unchanged: string[];
  failed: { model: string; error: string }[];
}

const PAST: Record<PauseAction, string> = { pause: 'paused', resume: 'resumed' };
const UNCHANGED: Record<PauseAction, string> = { pause: 'already paused', resume: 'not paused' };

/** Whether the Stage attribute alone shows the action has nothing to do. */
function alreadyDone(action: PauseAction, stage: string): boolean {
  const running: string[] = ['monitoring', 'no-champion'] satisfies LifecycleStage[];
  return action === 'pause' ? stage === ('paused' satisfies LifecycleStage) : running.includes(stage);
}

/**
 * Pauses or resumes each selected lifecycle, reporting one line per model as it goes; with
 * `dryRun`, reports what it would do and signals nothing.
 */
export async function pauseOrResumeAll(
  client: PerennialClient,
  action: PauseAction,
  lifecycles: SelectedLifecycle[],
  report: (line: string) => void,
  dryRun = false,
): Promise<BulkPauseResult> {
  const result: BulkPauseResult = { changed: [], unchanged: [], failed: [] };
  for (const { model, stage } of lifecycles) {
    if (alreadyDone(action, stage)) {
      result.unchanged.push(model);
      report(`${model}: ${UNCHANGED[action]} (${stage})`);
      continue;
    }
    if (dryRun) {
      result.changed.push(model);
      report(`${model}: would be ${PAST[action]} (${stage || 'no stage'})`);
      continue;
    }
    try {
      await (action === 'pause' ? client.pause(model) : client.resume(model));
      result.changed.push(model);
      report(`${model}: ${PAST[action]}`);
    } catch (err) {
      result.failed.push({ model, error: (err as Error).message });
      report(`${model}: FAILED: ${(err as Error).message}`);
    }
  }
  return result;
}

/** "3 paused, 1 already paused, 0 failed" (or "would be paused" in a dry run), failures named. */
export function pauseSummary(action: PauseAction, result: BulkPauseResult, dryRun = false): string {
  const changed = `${result.changed.length} ${dryRun ? `would be ${PAST[action]}` : PAST[action]}`;
  const failed = result.failed.length ? `, ${result.failed.length} failed: ${result.failed.map((f) => f.model).join(', ')}` : ', 0 failed';
  return `${changed}, ${result.unchanged.length} ${UNCHANGED[action]}${failed}`;
}
