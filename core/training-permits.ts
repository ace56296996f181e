/**
 * Training permits: a namespace-wide cap on concurrent sweeps (the CPU-heavy part of a retrain),
 * kept by one entity workflow (workflows/training-permits.ts). This is its pure bookkeeping and
 * its messages. Waiting sweeps are granted in the order they asked: a model runs at most one
 * retrain at a time, so a FIFO queue of sweeps is also fair across models (none can ask twice
 * ahead of another).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { builtOnFirstUse } from './lazy-schema.ts';

/** One per namespace: every worker's sweeps ask the same workflow. */
export const TRAINING_PERMITS_WORKFLOW_ID = 'perennial/training-permits';

export const TrainingLimit = builtOnFirstUse(() =>
  z.object({
    /** Sweeps that may run at once in the namespace; null: no limit. */
    limit: z
      .number({ error: 'limit must be a positive integer (or null for no limit)' })
      .int('limit must be a whole number of sweeps')
      .positive('limit must be at least 1 (null for no limit)')
      .nullable(),
  }),
);
export type TrainingLimit = z.infer<typeof TrainingLimit>;

export const PermitRequest = builtOnFirstUse(() =>
  z.object({
    sweepWorkflowId: z.string().min(1, 'sweepWorkflowId is required'),
    /** The sweep run that asks: the holder check describes this run. */
    runId: z.string().min(1, 'runId is required'),
    model: z.string().min(1, 'model is required'),
  }),
);
export type PermitRequest = z.infer<typeof PermitRequest>;

export const PermitRelease = builtOnFirstUse(() => z.object({ sweepWorkflowId: z.string().min(1, 'sweepWorkflowId is required') }));
export type PermitRelease = z.infer<typeof PermitRelease>;

export interface PermitEntry extends PermitRequest {
  /** When the sweep asked (queue) or was granted (holders). */
  since: string;
}

export interface TrainingPermitsState {
  limit: number | null;
  holders: PermitEntry[];
  queue: PermitEntry[];
}

/** What the permits workflow owes a sweep: its permit, or word that it waits behind `ahead` others. */
export type PermitNotice = { kind: 'granted'; entry: PermitEntry } | { kind: 'queued'; entry: PermitEntry; ahead: number };

// ---- messages -----------------------------------------------------------------------------

/** Sets the limit (validated) and answers with the state after it. */
export const setTrainingLimitUpdate = defineUpdate<TrainingPermitsState, [TrainingLimit]>('setTrainingLimit');
export const requestPermitSignal = defineSignal<[PermitRequest]>('requestPermit');
export const releasePermitSignal = defineSignal<[PermitRelease]>('releasePermit');
export const trainingPermitsQuery = defineQuery<TrainingPermitsState>('trainingPermits');
/** To the sweep: it may train now. */
export const permitGrantedSignal = defineSignal<[]>('permitGranted');
/** To the sweep: it waits, with `ahead` sweeps before it in the queue. */
export const permitQueuedSignal = defineSignal<[{ ahead: number }]>('permitQueued');

/**
 * The status line of a waiting sweep. The sweep itself learns its place once, when it asks
 * (telling every waiter of every move would cost a signal per waiter per grant); the client
 * reads the live place from the permits workflow.
 */
export const waitingForPermit = (ahead: number, whenQueued = false) =>
  `waiting for a training permit (${ahead} ahead${whenQueued ? ' when it asked' : ''})`;

// ---- bookkeeping --------------------------------------------------------------------------

export class TrainingPermits {
  limit: number | null;
  holders: PermitEntry[];
  queue: PermitEntry[];
  /** Notices not sent yet; the workflow sends them in order. */
  readonly notices: PermitNotice[] = [];

  constructor(
    state: TrainingPermitsState,
    /** ISO time now: the workflow's deterministic clock. */
    private readonly now: () => string,
  ) {
    this.limit = state.limit;
    this.holders = [...state.holders];
    this.queue = [...state.queue];
  }

  state(): TrainingPermitsState {
    return { limit: this.limit, holders: [...this.holders], queue: [...this.queue] };
  }

  setLimit(limit: number | null): void {
    this.limit = limit;
    this.grantWhileFree();
  }

  /**
   * A sweep asks. Asking again (a sweep reset or replayed by hand) keeps its place: a holder is
   * told again that it holds, a waiter keeps its turn.
   */
  request(request: PermitRequest): void {
    const holder = this.holders.find((h) => h.sweepWorkflowId === request.sweepWorkflowId);
    if (holder) {
      holder.runId = request.runId;
      this.notices.push({ kind: 'granted', entry: holder });
      return;
    }
    const waiting = this.queue.findIndex((w) => w.sweepWorkflowId === request.sweepWorkflowId);
    if (waiting >= 0) {
      this.queue[waiting].runId = request.runId;
      this.notices.push({ kind: 'queued', entry: this.queue[waiting], ahead: waiting });
      return;
    }
    const entry = { ...request, since: this.now() };
    this.queue.push(entry);
    this.grantWhileFree();
    if (this.queue.includes(entry)) this.notices.push({ kind: 'queued', entry, ahead: this.queue.length - 1 });
  }

  /** A sweep is done (or gone, or stopped waiting): its permit or its place goes. False when it had neither. */
  release(sweepWorkflowId: string): boolean {
    const before = this.holders.length + this.queue.length;
    this.holders = this.holders.filter((h) => h.sweepWorkflowId !== sweepWorkflowId);
    this.queue = this.queue.filter((w) => w.sweepWorkflowId !== sweepWorkflowId);
    this.grantWhileFree();
    return this.holders.length + this.queue.length < before;
  }

  /** Every sweep the permits workflow knows of: what the holder check describes. */
  known(): PermitEntry[] {
    return [...this.holders, ...this.queue];
  }

  private grantWhileFree(): void {
    while (this.queue.length && (this.limit === null || this.holders.length < this.limit)) {
      const entry = { ...this.queue.shift()!, since: this.now() };
      this.holders.push(entry);
      this.notices.push({ kind: 'granted', entry });
    }
  }
}
