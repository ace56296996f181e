/**
 * One monitoring cycle's store calls, timed against a log of any size: a fixed batch of new rows
 * is appended through the real Store (what the model server writes), then each call that
 * activities/monitor-check.ts, activities/monitor.ts and the canary / shadow comparisons
 * (activities/deployment.ts) make is timed REPETITIONS times, from the cursors the cycle held
 * before the batch. If the indexes work, every call reads the batch only, whatever the log's size.
 */
import { median } from '../../core/stats/quantiles.ts';
import type { PredictionLog, Store } from '../../adapters/store/index.ts';
import { MODEL, SHADOW_VERSION } from './fill.ts';

export const BATCH = { served: 800, shadows: 200, feedback: 200 };
// Many: the machine is shared, and a call takes milliseconds.
const REPETITIONS = 15;
/** The monitor's window cap (settings.maxRows' default order of size). */
const MAX_ROWS = 5000;

/** Milliseconds per call (median), and the whole cycle's (the sum of the medians). */
export type CycleCost = Record<string, number>;

/**
 * Appends the batch through `store` (whose clock reads `at`); the cursors from just before it
 * (`lastRecordId`: the lifecycle's trainedThroughRecordId).
 */
export async function appendBatch(store: Store, tag: string, at: Date, lastRecordId: number) {
  const cursors = { seq: await store.maxPredictionSeq(MODEL), feedback: await store.maxFeedbackId(MODEL), records: lastRecordId };
  const row = (id: string, extra: Partial<PredictionLog> = {}): PredictionLog => ({
    id,
    model: MODEL,
    version: '1',
    role: 'champion',
    task: 'classification',
    features: { x: 1, y: 2 },
    label: 'a',
    confidence: 0.8,
    probabilities: { a: 0.8, b: 0.2 },
    ...extra,
  });
  const served = Array.from({ length: BATCH.served }, (_, i) => row(`${tag}-${i}`));
  const shadows = served
    .filter((_, i) => i % (BATCH.served / BATCH.shadows) === 0)
    .map((p) => row(`${p.id}-shadow`, { role: 'shadow', version: SHADOW_VERSION, shadowOf: p.id, label: 'b' }));
  // In slices of 100, as the model server's group commit writes them.
  const all = [...served, ...shadows];
  for (let i = 0; i < all.length; i += 100) await store.logPredictions(all.slice(i, i + 100));
  const labels = served.slice(0, BATCH.feedback).map((p, i) => ({ predictionId: p.id, kind: 'label' as const, label: i % 3 ? 'a' : 'b' }));
  await store.addFeedbackMany(labels, MODEL);
  return { ...cursors, since: at.toISOString() };
}

export async function timeCycle(store: Store, cursors: Awaited<ReturnType<typeof appendBatch>>): Promise<CycleCost> {
  const calls: Record<string, () => Promise<unknown>> = {
    // monitor-check: the quiet-cycle check
    maxPredictionSeq: () => store.maxPredictionSeq(MODEL),
    maxFeedbackId: () => store.maxFeedbackId(MODEL),
    countRecordsSince: () => store.countRecordsSince(MODEL, cursors.records),
    // monitor: feedback, drift window, shadow comparison
    feedbackSince: () => store.feedbackSince(MODEL, cursors.feedback),
    labelledSince: () => store.labelledSince(MODEL, cursors.feedback),
    countPredictionsSince: () => store.countPredictionsSince(MODEL, cursors.seq),
    predictionsSince: () => store.predictionsSince(MODEL, cursors.seq, MAX_ROWS),
    'shadowPairCounts (cursors)': () =>
      store.shadowPairCounts(MODEL, SHADOW_VERSION, { afterSeq: cursors.seq, afterFeedbackId: cursors.feedback }),
    // deployment: canary and shadow scores since the deploy
    liveAccuracy: () => store.liveAccuracy(MODEL, cursors.since),
    liveErrors: () => store.liveErrors(MODEL, cursors.since),
    'shadowPairCounts (since time)': () => store.shadowPairCounts(MODEL, SHADOW_VERSION, { fromTime: cursors.since }),
  };
  const cost: CycleCost = {};
  for (const [name, call] of Object.entries(calls)) {
    await call(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      const start = process.hrtime.bigint();
      await call();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    cost[name] = median(times);
  }
  cost.cycle = Object.values(cost).reduce((a, b) => a + b, 0);
  return cost;
}
