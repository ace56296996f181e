/**
 * `training.online`: the settings of the online training mode (`training.mode: online`), in which
 * the champion keeps learning from each new batch of labels between full retrains
 * (core/online.ts decides which). Apart from spec.ts so that the decisions need no schemas.
 */
import { z } from 'zod';

export const TRAINING_MODES = ['retrain', 'online'] as const;

export const OnlineSpec = z.object({
  /** Labelled records since the last retrain or update that make the next update. */
  batchRows: z.number().int().positive().default(200),
  /**
   * Passes over the new labels: SGD epochs for softmax, mlp and cnn (the champion's optimiser
   * settings, restarted); a gbdt champion adds epochs x 10 trees (GBDT_ROUNDS_PER_EPOCH).
   */
  epochs: z.number().int().positive().max(100).default(3),
  /** The update's learning rate (a gbdt's shrinkage for its new trees); the champion's own when absent. */
  learningRate: z.number().gt(0).max(1).optional(),
  /** After this many promoted updates in a row, a full retrain (a sweep on training.window) searches afresh. */
  fullRetrainAfter: z.number().int().positive().default(20),
  /** After this many updates in a row that did not become champion, a full retrain instead. */
  maxRejected: z.number().int().positive().default(3),
  /**
   * Updates skip the human approval that `approval.required` asks of every challenger; the
   * evaluation, the gates and the live test still judge them. Full retrains are reviewed as always.
   */
  skipApproval: z.boolean().default(false),
});
export type OnlineSpec = z.infer<typeof OnlineSpec>;
