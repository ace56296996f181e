/**
 * The cheap check before a monitoring cycle: where the model's log stands (three indexed reads).
 * The lifecycle runs it as a local activity (one marker event inside the workflow task instead of
 * an activity's three events and a task queue round trip) and skips the monitor activity when
 * nothing arrived since its cursors (core/lifecycle/quiet-cycle.ts).
 */
import type { LogPosition } from '../core/lifecycle/quiet-cycle.ts';
import type { ActivityContext } from './context.ts';

export function monitorCheckActivities(ctx: ActivityContext) {
  return {
    async logPosition(input: { model: string; trainedThroughRecordId: number }): Promise<LogPosition> {
      const { store } = ctx;
      return {
        maxPredictionSeq: await store.maxPredictionSeq(input.model),
        maxFeedbackId: await store.maxFeedbackId(input.model),
        newLabels: await store.countRecordsSince(input.model, input.trainedThroughRecordId),
      };
    },
  };
}
