/**
 * Dynamic batching, as Triton and BentoML do it: work that arrives close together is handed
 * over in one batch, so a fixed cost per call (a tensor call, a database commit) is paid once
 * per batch rather than once per request. The model server uses it twice: predict requests of
 * a model are predicted together (serving/predict.ts), and log writes are committed together
 * (serving/log-writer.ts).
 *
 * A batch is handed over when it holds `maxRows` rows, or when its first item has waited
 * `maxDelayMs`. With `maxDelayMs` 0 nothing waits for company: the batch is what arrived
 * during the current turn of the event loop (flushed by setImmediate, after Node has read
 * every request ready on its sockets). While the process is busy computing one batch, the
 * next requests queue up, so the batch grows with the load and costs no latency when idle.
 */

export interface BatchSettings {
  /** How long the first item of a batch may wait for more (ms); 0: only what arrived in the same event-loop turn. */
  maxDelayMs: number;
  /** A batch is handed over as soon as it holds this many rows; one item larger than this goes alone. */
  maxRows: number;
}

export interface BatchStats {
  batches: number;
  items: number;
  rows: number;
  /** The most items one batch held. */
  largestBatch: number;
}

export class Batcher<T> {
  private waiting: T[] = [];
  private waitingRows = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly counts: BatchStats = { batches: 0, items: 0, rows: 0, largestBatch: 0 };

  /** `run` gets each batch, items in arrival order; it must settle every item itself (it may not throw). */
  constructor(
    private readonly settings: BatchSettings,
    private readonly run: (items: T[]) => void,
  ) {}

  add(item: T, rows: number): void {
    // Hand over what waits first rather than let this item push the batch past maxRows.
    if (this.waiting.length && this.waitingRows + rows > this.settings.maxRows) this.flush();
    this.waiting.push(item);
    this.waitingRows += rows;
    if (this.waitingRows >= this.settings.maxRows) this.flush();
    else this.timer ??= this.settings.maxDelayMs > 0 ? setTimeout(this.flush, this.settings.maxDelayMs) : setImmediate(this.flush);
  }

  /** Hands over everything waiting now (a no-op when nothing waits). */
  readonly flush = (): void => {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    if (!this.waiting.length) return;
    const batch = this.waiting;
    this.counts.batches++;
    this.counts.items += batch.length;
    this.counts.rows += this.waitingRows;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.length);
    this.waiting = [];
    this.waitingRows = 0;
    this.run(batch);
  };

  stats(): BatchStats {
    return { ...this.counts };
  }
}

/** Cuts `all` into consecutive pieces of the given lengths: each request's share of a batch's results. */
export function splitByCounts<T>(all: readonly T[], counts: readonly number[]): T[][] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== all.length) throw new RangeError(`splitByCounts: ${all.length} results for ${total} rows`);
  const pieces: T[][] = [];
  let start = 0;
  for (const n of counts) {
    pieces.push(all.slice(start, start + n));
    start += n;
  }
  return pieces;
}
