/**
 * `GET /v1/models/:model/label-queue` (admin token, like the log it reads): the served predictions
 * without feedback that are most worth labelling, and how many the queue offered so far and how
 * many of those got feedback. Every prediction returned is recorded as offered, so feedback sent
 * for it later counts as the queue's (`perennial_label_queue_feedback_total`).
 *
 * - `strategy=confidence` (default): a classifier's predictions, lowest confidence first. A
 *   regression model has no confidence: 400, pointing at `disagreement`.
 * - `strategy=disagreement`: two models' answers to the same row, those where the two labels
 *   differ first, then by how far apart the answers are (classifiers: total variation distance
 *   of the probabilities; regression: |served - other|). With a shadow, the predictions it also
 *   made (its logged twins, whichever shadow version); with a canary and no shadow, the newest
 *   unlabelled rows that champion or canary served, each put to the other now
 *   (serving/canary-disagreement.ts). Rows that no second model answered are not in this queue.
 * - `limit` 1-500 (default 50); `since` as the log export's: a prediction seq or an ISO time.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { InvalidRequestError, NoDeploymentError } from '../core/errors.ts';
import type { LabelQueueItem, Store } from '../adapters/store/index.ts';
import { adminOnly } from './admin-auth.ts';
import { canaryDisagreements } from './canary-disagreement.ts';
import type { LiveDeployments } from './deployments.ts';
import { Since } from './log-export.ts';
import { ModelName } from './model-name.ts';

export const MAX_LABEL_QUEUE_LIMIT = 500;

const Limit = z
  .string()
  .regex(/^\d{1,4}$/, `a whole number from 1 to ${MAX_LABEL_QUEUE_LIMIT}`)
  .transform(Number)
  .pipe(
    z.number().min(1, `a whole number from 1 to ${MAX_LABEL_QUEUE_LIMIT}`).max(MAX_LABEL_QUEUE_LIMIT, `at most ${MAX_LABEL_QUEUE_LIMIT}`),
  );

const LabelQueueQuery = z.strictObject({
  limit: Limit.default(50),
  strategy: z.enum(['confidence', 'disagreement'], { message: 'confidence or disagreement' }).default('confidence'),
  since: Since.optional(),
});

interface Options {
  store: Store;
  deployments: LiveDeployments;
  adminToken: string;
}

export const labelQueueRoutes: FastifyPluginAsync<Options> = async (app, { store, deployments, adminToken }) => {
  app.addHook('onRequest', adminOnly(adminToken));

  app.get<{ Params: { model: string } }>('/v1/models/:model/label-queue', async (request) => {
    const name = ModelName.safeParse(request.params.model);
    if (!name.success) throw new InvalidRequestError(`invalid model name:\n${formatIssues(name.error)}`);
    const query = LabelQueueQuery.safeParse(request.query);
    if (!query.success) throw new InvalidRequestError(`invalid query:\n${formatIssues(query.error)}`);
    const model = name.data;
    const { strategy, limit, since = {} } = query.data;
    if (!deployments.has(model)) throw new NoDeploymentError(model);
    // The champion says what the model predicts (a deployment does not mix tasks).
    if (strategy === 'confidence' && deployments.targets(model)[0].predictor.task === 'regression')
      throw new InvalidRequestError(
        `invalid query:\n  - strategy: ${model} is a regression model, whose predictions have no confidence; ` +
          'use strategy=disagreement (the rows a shadow or canary answers most differently)',
      );
    const { canary, shadow } = deployments.state(model);
    const items =
      strategy === 'disagreement' && canary && !shadow
        ? await canaryDisagreements(store, model, () => deployments.targets(model), since, limit)
        : await store.labelQueue(model, { strategy, limit, since });
    await store.recordLabelQueueOffers(
      model,
      strategy,
      items.map((i) => i.predictionId),
    );
    return { model, strategy, items: items.map(answer), summary: await store.labelQueueSummary(model) };
  });
};

/** As predict answers: a classifier's label and probabilities, a regression model's value (a number). */
function answer(item: LabelQueueItem) {
  const { task, label, confidence, probabilities, other, ...rest } = item;
  const said = (p: { label: string; confidence: number | null; probabilities: Record<string, number> }) =>
    task === 'regression' ? { value: Number(p.label) } : { label: p.label, confidence: p.confidence, probabilities: p.probabilities };
  return {
    ...rest,
    task,
    ...said({ label, confidence, probabilities }),
    ...(other && {
      other: { ...(other.predictionId && { predictionId: other.predictionId }), version: other.version, role: other.role, ...said(other) },
    }),
  };
}
