/**
 * `perennial follow <model>` and `perennial retrain --follow`: polls a running retrain (its
 * workflow's state, its status query, its sweep child's status query) until it ends, and hands
 * what it sees to a view (client/follow-view.ts). A query that fails, as one does while a worker
 * restarts, leaves the last answer in place and says so; the next poll tries again.
 */
import { CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { retrainWorkflowId, type LifecycleStatus } from '../core/messages.ts';
import type { RetrainResult } from '../workflows/retrain.ts';
import type { PerennialClient } from './client.ts';
import {
  endLine,
  followView,
  type FollowedRetrain,
  type FollowEnd,
  type FollowFrame,
  type FollowView,
  type Output,
} from './follow-view.ts';

/** Modest: each poll is two or three queries, answered by the model's workers. */
const POLL_INTERVAL_MS = 1000;

/** Stages with no sweep (yet, or ever): snapshot and validate come before it, invalid data ends before it. */
const BEFORE_SWEEP = ['snapshot', 'validate', 'invalid-data'];

/**
 * `perennial follow <model>`: the running retrain until it ends; when none runs, says so and
 * ends, or with `wait`, waits for the next one. Undefined when nothing was followed to its end.
 */
export async function followModel(client: PerennialClient, model: string, wait: boolean, out: Output): Promise<FollowEnd | undefined> {
  const now = runningRetrain(await lifecycleStatus(client, model));
  if (!now && !wait) return void out.write(`no retrain of ${model} is running (perennial follow ${model} --wait waits for the next one)\n`);
  return untilCtrlC(async (signal) => {
    if (now) return followToEnd(client, now, out, signal);
    out.write(`no retrain of ${model} is running: waiting for the next one (Ctrl-C stops)\n`);
    const next = await awaitRetrain(client, model, runningRetrain, signal);
    return next ? followToEnd(client, next, out, signal) : void out.write(`stopped waiting for a retrain of ${model}\n`);
  });
}

/**
 * `perennial retrain <model> --follow`: the retrain the request starts, given the lifecycle's
 * status from just before it was sent. A request made while a retrain runs becomes its follow-up,
 * so the one to follow is always the next number.
 */
export async function followRequested(client: PerennialClient, before: LifecycleStatus, out: Output): Promise<FollowEnd | undefined> {
  const n = before.retrainCount + 1;
  if (before.activeRetrain) out.write(`retrain #${n - 1} of ${before.model} is running: #${n} starts when it ends\n`);
  return untilCtrlC(async (signal) => {
    const retrain = await awaitRetrain(client, before.model, retrainNumbered(n), signal);
    return retrain ? followToEnd(client, retrain, out, signal) : void out.write(`stopped waiting for retrain #${n} of ${before.model}\n`);
  });
}

async function followToEnd(client: PerennialClient, retrain: FollowedRetrain, out: Output, signal: AbortSignal): Promise<FollowEnd> {
  const view = followView(out);
  const end = await followRetrain(client, retrain, view, signal);
  view.finish(endLine(retrain, end));
  return end;
}

/** Runs `work` with a signal that Ctrl-C aborts: following stops cleanly, with no stack trace. */
async function untilCtrlC<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrlC = new AbortController();
  const abort = () => ctrlC.abort();
  process.once('SIGINT', abort);
  try {
    return await work(ctrlC.signal);
  } finally {
    process.off('SIGINT', abort);
  }
}

/** The lifecycle's status, or a clear error for a model that has none. */
export async function lifecycleStatus(client: PerennialClient, model: string): Promise<LifecycleStatus> {
  try {
    return await client.status(model);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new Error(`model ${model} has no running lifecycle (perennial register <spec> starts one)`, { cause: err });
    throw err;
  }
}

/** The retrain the model's lifecycle runs now, if any. */
function runningRetrain(status: LifecycleStatus): FollowedRetrain | undefined {
  const active = status.activeRetrain;
  return active && { model: status.model, workflowId: active.workflowId, n: retrainNumber(active.workflowId), trigger: active.trigger };
}

/** The retrain numbered `n` (core/messages.ts retrainWorkflowId), once the lifecycle has started it. */
function retrainNumbered(n: number): (status: LifecycleStatus) => FollowedRetrain | undefined {
  return (status) => {
    if (status.retrainCount < n) return undefined;
    const workflowId = retrainWorkflowId(status.model, n);
    const trigger = status.activeRetrain?.workflowId === workflowId ? status.activeRetrain.trigger : undefined;
    return { model: status.model, workflowId, n, trigger };
  };
}

const retrainNumber = (workflowId: string) => Number(workflowId.slice(workflowId.lastIndexOf('/') + 1));

/** Polls the model's lifecycle until `pick` finds the retrain to follow; undefined when stopped (Ctrl-C) first. */
async function awaitRetrain(
  client: PerennialClient,
  model: string,
  pick: (status: LifecycleStatus) => FollowedRetrain | undefined,
  signal: AbortSignal,
): Promise<FollowedRetrain | undefined> {
  while (!signal.aborted) {
    // A lifecycle continuing as new does not answer for a moment: asked again next time.
    const found = await client.status(model).then(pick, () => undefined);
    if (found) return found;
    await sleep(POLL_INTERVAL_MS, signal);
  }
  return undefined;
}

/** Follows the retrain until it ends (its outcome) or Ctrl-C aborts the signal ('stopped'). */
async function followRetrain(client: PerennialClient, retrain: FollowedRetrain, view: FollowView, signal: AbortSignal): Promise<FollowEnd> {
  const handle = client.temporal.workflow.getHandle(retrain.workflowId);
  const frame: FollowFrame = { decisions: [] };
  // The sweep is asked about while the retrain is in it, and once more after (its last rungs may
  // finish between two polls), or once when following began after it.
  let sweepToRead = false;

  /** One look at the retrain; true once it has ended. */
  const poll = async (): Promise<boolean> => {
    const troubles: string[] = [];
    const tolerate = (err: unknown) =>
      void troubles.push(err instanceof WorkflowNotFoundError ? 'not started yet' : (err as Error).message);
    // Its state first: a retrain seen closed here has its final status in the query below.
    const closed = await handle.describe().then(
      (d) => d.status.name !== 'RUNNING',
      (err) => (tolerate(err), false),
    );
    await client.retrainStatus(retrain.workflowId).then((status) => {
      sweepToRead ||= status.stage === 'sweep' || frame.stage === 'sweep' || (!frame.sweep && !BEFORE_SWEEP.includes(status.stage));
      Object.assign(frame, { stage: status.stage, decisions: status.decisions });
    }, tolerate);
    if (sweepToRead) {
      await client.sweepStatus(retrain.workflowId).then(
        (sweep) => {
          Object.assign(frame, { sweep, sweepReadAt: Date.now() });
          sweepToRead = frame.stage === 'sweep';
        },
        // Between entering the stage and starting its child, the sweep does not exist yet.
        (err) => err instanceof WorkflowNotFoundError || tolerate(err),
      );
    }
    frame.trouble = troubles.length ? troubles.join('; ') : undefined;
    if (!signal.aborted) view.show(frame, Date.now());
    return closed;
  };

  view.start(retrain);
  const stopped = abortion(signal);
  while (!signal.aborted) {
    if ((await Promise.race([poll(), stopped])) === true) return Promise.race([outcomeOf(handle), stopped]);
    await sleep(POLL_INTERVAL_MS, signal);
  }
  return 'stopped';
}

/** What the retrain decided, or how it failed (with the innermost cause: "MLflow unreachable", not "Workflow execution failed"). */
async function outcomeOf(handle: { result(): Promise<unknown> }): Promise<FollowEnd> {
  try {
    const result = (await handle.result()) as RetrainResult;
    return { outcome: result.outcome, reason: outcomeReason(result), failed: false };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const { cause } = err;
    const outcome =
      cause instanceof CancelledFailure
        ? 'cancelled'
        : cause instanceof TerminatedFailure
          ? 'terminated'
          : cause instanceof TimeoutFailure
            ? 'timed out'
            : 'failed';
    return { outcome, reason: innermostMessage(err), failed: true };
  }
}

/** The retrain's last decision, and for a promotion the verdict that earned it. */
export function outcomeReason(result: Pick<RetrainResult, 'outcome' | 'decisions'>): string {
  const last = result.decisions.at(-1);
  const verdict = result.outcome === 'promoted' ? result.decisions.find((d) => d.what === 'challenger beats the champion') : undefined;
  return [last?.what, ...(last?.reasons ?? []), ...(verdict?.reasons ?? [])].filter(Boolean).join('; ');
}

function innermostMessage(err: Error): string {
  let message = err.message;
  for (let e: unknown = err.cause; e instanceof Error; e = e.cause) if (e.message) message = e.message;
  return message;
}

/** Resolves 'stopped' when the signal aborts. */
function abortion(signal: AbortSignal): Promise<'stopped'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('stopped');
    signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
}

/** Waits `ms`, or less when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
