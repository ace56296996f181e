/**
 * trainingPermits: the entity workflow (ID `perennial/training-permits`, one per namespace) that
 * caps how many sweeps train at once across every worker. Sweeps ask by signal and are answered
 * by signal (workflows/training-permit.ts is their side); the bookkeeping is
 * core/training-permits.ts. It exists once someone sets a limit (`perennial training-limit`);
 * without it sweeps do not wait at all.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { issueLines } from '../core/messages.ts';
import { parseDuration } from '../core/duration.ts';
import {
  permitGrantedSignal,
  permitQueuedSignal,
  PermitRelease,
  PermitRequest,
  releasePermitSignal,
  requestPermitSignal,
  setTrainingLimitUpdate,
  TrainingLimit,
  trainingPermitsQuery,
  TrainingPermits,
  type PermitNotice,
  type TrainingPermitsState,
} from '../core/training-permits.ts';
import { SHORT_CALL } from './activity-options.ts';

const { closedPermitHolders } = proxyActivities<Activities>(SHORT_CALL);

export interface TrainingPermitsInput {
  /** Carried across continue-as-new; absent on the first run (no limit). */
  state?: TrainingPermitsState;
  /**
   * How often holders are checked for having ended without releasing (terminated, timed out),
   * so their permits are not held forever. Default 1m.
   */
  checkHoldersEvery?: string;
}

export async function trainingPermits(input: TrainingPermitsInput = {}): Promise<void> {
  const checkEvery = parseDuration(input.checkHoldersEvery ?? '1m');
  const permits = new TrainingPermits(input.state ?? { limit: null, holders: [], queue: [] }, () => new Date().toISOString());

  setHandler(
    setTrainingLimitUpdate,
    (raw) => {
      permits.setLimit(TrainingLimit.parse(raw).limit);
      log.info('training limit set', { limit: permits.limit });
      return permits.state();
    },
    {
      validator: (raw) => {
        const parsed = TrainingLimit.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid training limit: ${issueLines(parsed.error).join('; ')}`);
      },
    },
  );
  // Bad signals are logged and dropped: a sweep's mistake must not stop every other sweep's permits.
  setHandler(requestPermitSignal, (raw) => {
    const parsed = PermitRequest.safeParse(raw);
    if (parsed.success) permits.request(parsed.data);
    else log.warn('ignored invalid permit request', { issues: issueLines(parsed.error) });
  });
  setHandler(releasePermitSignal, (raw) => {
    const parsed = PermitRelease.safeParse(raw);
    if (!parsed.success) log.warn('ignored invalid permit release', { issues: issueLines(parsed.error) });
    else if (!permits.release(parsed.data.sweepWorkflowId)) log.info('release of a permit not held', parsed.data);
  });
  setHandler(trainingPermitsQuery, () => permits.state());
  setDefaultSignalHandler((name) => log.warn(`ignored unknown signal "${name}"`));

  let nextCheck = Date.now() + checkEvery;
  for (;;) {
    await sendNotices(permits);
    if (!permits.holders.length) nextCheck = Date.now() + checkEvery;
    const pending = () => permits.notices.length > 0 || workflowInfo().continueAsNewSuggested;
    // Holders are checked on a schedule of their own, however busy the signals keep the loop.
    const woken = permits.holders.length ? await condition(pending, Math.max(nextCheck - Date.now(), 1)) : (await condition(pending), true);
    if (!woken) {
      await reclaimFromEnded(permits);
      nextCheck = Date.now() + checkEvery;
    } else if (permits.notices.length === 0 && workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (permits.notices.length === 0) {
        await continueAsNew<typeof trainingPermits>({ state: permits.state(), checkHoldersEvery: input.checkHoldersEvery });
      }
    }
  }
}

/** Tells sweeps their grants and places; a sweep that no longer runs loses its permit or place. */
async function sendNotices(permits: TrainingPermits): Promise<void> {
  while (permits.notices.length) {
    const batch = permits.notices.splice(0);
    const failed = await Promise.all(
      batch.map((notice) =>
        send(notice).then(
          () => undefined,
          () => notice,
        ),
      ),
    );
    for (const notice of failed) {
      if (!notice) continue;
      log.info('sweep no longer runs: its permit or place goes to the next', { sweep: notice.entry.sweepWorkflowId });
      permits.release(notice.entry.sweepWorkflowId);
    }
  }
}

function send(notice: PermitNotice): Promise<void> {
  const sweep = getExternalWorkflowHandle(notice.entry.sweepWorkflowId);
  return notice.kind === 'granted' ? sweep.signal(permitGrantedSignal) : sweep.signal(permitQueuedSignal, { ahead: notice.ahead });
}

/** Holders that ended without releasing (terminated, timed out, reset) give their permits back. */
async function reclaimFromEnded(permits: TrainingPermits): Promise<void> {
  const ended = await closedPermitHolders(permits.holders.map(({ sweepWorkflowId, runId }) => ({ sweepWorkflowId, runId })));
  for (const sweepWorkflowId of ended) {
    if (permits.release(sweepWorkflowId)) log.warn('reclaimed the permit of a sweep that ended without releasing it', { sweepWorkflowId });
  }
}
