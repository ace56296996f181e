/**
 * A reviewer's decision from the console to the waiting retrain. Checked here before anything is
 * sent: the retrain the reviewer saw is the one waiting, and the spec it runs with allows this
 * reviewer (the workflow's update validator checks the same again). Then the typed `review`
 * update goes out through PerennialClient.review, as `perennial approve` sends it.
 */
import type { PerennialClient } from '../client/client.ts';
import { mayReview } from '../core/spec-reading.ts';
import { AWAITING_APPROVAL, allowedReviewers } from './pages/review.ts';
import { retrainStart } from './workflow-input.ts';

/** A decision the console would not send; `status` is the HTTP answer. */
export class ReviewRefusedError extends Error {
  override name = 'ReviewRefusedError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ReviewRequest {
  model: string;
  reviewer: string;
  decision: 'approve' | 'reject';
  comment: string;
  /** The retrain workflow the reviewer looked at. */
  retrainWorkflowId: string;
}

/** Sends the decision, or throws ReviewRefusedError with nothing sent; answers with the workflow's reply. */
export async function sendReview(client: PerennialClient, request: ReviewRequest): Promise<string> {
  const { model, reviewer, decision } = request;
  const active = (await client.status(model)).activeRetrain;
  if (!active) throw new ReviewRefusedError(`${model} has no retrain running: nothing to ${decision}`, 409);
  if (active.workflowId !== request.retrainWorkflowId) {
    throw new ReviewRefusedError(
      `the retrain you looked at (${request.retrainWorkflowId}) is no longer the one running (${active.workflowId}): look again before deciding`,
      409,
    );
  }
  const { spec } = await retrainStart(client.temporal, active.workflowId);
  if (!mayReview(spec.approval, reviewer)) {
    throw new ReviewRefusedError(
      `${reviewer} may not review ${model}: allowed reviewers are ${allowedReviewers(spec.approval)}. Nothing was sent.`,
      403,
    );
  }
  const { stage } = await client.retrainStatus(active.workflowId);
  if (stage !== AWAITING_APPROVAL) throw new ReviewRefusedError(`${active.workflowId} is not awaiting approval (stage: ${stage})`, 409);
  try {
    return await client.review(model, decision, { reviewer, comment: request.comment });
  } catch (err) {
    // The workflow's own refusal (decided already, no longer waiting): nothing changed.
    throw new ReviewRefusedError((err as Error).message, 409);
  }
}
