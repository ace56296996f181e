/**
 * Group commit of the serving log: the predictions and feedback of requests that arrive close
 * together are written in one store transaction (Store.writeLog), one commit for all of them.
 * Each request's promise settles only after that commit, and the server answers only then:
 * a response is never sent for a row that is not stored. Commits run one at a time, in batch
 * order: a batch handed over while the previous one commits waits for it.
 */
import type { FeedbackInput, LogWrite, LogWriteResult, PredictionLog, Store } from '../adapters/store/index.ts';
import { Batcher, type BatchSettings, type BatchStats } from './batcher.ts';

/** Told of every commit: its writes, their results (undefined when the transaction failed as a whole), and its seconds. */
export type CommitObserver = (writes: LogWrite[], results: LogWriteResult[] | undefined, seconds: number) => void;

interface PendingWrite {
  write: LogWrite;
  settle: (result: LogWriteResult) => void;
  fail: (error: unknown) => void;
}

export class LogWriter {
  private readonly batcher: Batcher<PendingWrite>;
  private commitMs = 0;
  /** The last commit handed over: the next one starts when it has ended. */
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    settings: BatchSettings,
    private readonly observe: CommitObserver = () => {},
  ) {
    this.batcher = new Batcher(settings, (pending) => this.commit(pending));
  }

  /** Resolves once the rows are committed. */
  async predictions(rows: PredictionLog[]): Promise<void> {
    await this.write({ kind: 'predictions', rows });
  }

  /** Resolves with the feedback ids once committed; rejects with the store's error (all or nothing) when refused. */
  feedback(items: Array<{ predictionId: string } & FeedbackInput>, model: string, sender: string): Promise<number[]> {
    return this.write({ kind: 'feedback', items, model, sender });
  }

  /** Commits whatever waits now, and resolves when every commit has ended (the server is closing). */
  async flush(): Promise<void> {
    this.batcher.flush();
    await this.committing;
  }

  stats(): BatchStats & { commitMs: number } {
    return { ...this.batcher.stats(), commitMs: this.commitMs };
  }

  private write(write: LogWrite): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const settle = (result: LogWriteResult) => (result.ok ? resolve(result.ids) : reject(result.error));
      this.batcher.add({ write, settle, fail: reject }, write.kind === 'predictions' ? write.rows.length : write.items.length);
    });
  }

  private commit(pending: PendingWrite[]): void {
    this.committing = this.committing.then(() => this.commitNow(pending));
  }

  private async commitNow(pending: PendingWrite[]): Promise<void> {
    const writes = pending.map((p) => p.write);
    const started = performance.now();
    let results: LogWriteResult[] | undefined;
    let failure: unknown;
    try {
      results = await this.store.writeLog(writes);
    } catch (error) {
      failure = error;
    }
    const ms = performance.now() - started;
    this.commitMs += ms;
    this.observe(writes, results, ms / 1000);
    if (results) pending.forEach((p, i) => p.settle(results[i]));
    // The transaction failed as a whole (disk full, lock timeout): nothing is stored, every request fails.
    else for (const p of pending) p.fail(failure);
  }
}
