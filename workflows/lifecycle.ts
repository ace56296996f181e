/**
 * modelLifecycle: the long-running entity workflow of one managed model (ID `model/<name>`).
 * On a durable timer it asks production how the champion is doing, evaluates the retraining
 * policies, and starts a `retrain` child when they fire. Triggers that arrive while a retrain
 * runs coalesce into one follow-up. The workflow continues-as-new when Temporal suggests it.
 *
 * This file wires messages to the entity (lifecycle/model-entity.ts), which holds the state and
 * the steps of the main loop below.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setDefaultSignalHandler,
  setHandler,
} from '@temporalio/workflow';
import {
  approveSignal,
  DataArrived,
  dataArrivedSignal,
  issueLines,
  pauseSignal,
  PolicyChange,
  rejectSignal,
  resumeSignal,
  RetrainRequest,
  retrainSignal,
  Review,
  RollbackRequest,
  rollbackSignal,
  rollbackUpdate,
  setPoliciesUpdate,
  type SpecChange,
  statusQuery,
  updateSpecUpdate,
} from '../core/messages.ts';
import type { ModelSpec } from '../core/spec.ts';
import { mayReview } from '../core/spec-reading.ts';
import { unknownKeyLines } from '../core/known-keys.ts';
import { requestedTrigger, rollbackRefusal } from '../core/lifecycle/state.ts';
import type { CarriedLifecycleState } from '../core/legacy/carried-state.ts';
import { CHECKED_REVIEWS_PATCH } from './legacy/patches.ts';
import { ModelEntity } from './lifecycle/model-entity.ts';

export interface LifecycleInput {
  spec: ModelSpec;
  /** The state a continued-as-new run carries over (possibly from a pre-v2 run: converted once). */
  state?: CarriedLifecycleState;
}

export async function modelLifecycle({ spec, state: carried }: LifecycleInput): Promise<void> {
  const lifecycle = new ModelEntity(spec, carried);
  wireHandlers(lifecycle);
  await lifecycle.start();

  for (;;) {
    lifecycle.publish();
    const monitorNow = await lifecycle.nextWork();
    await lifecycle.finishRetrainIfDone();
    await lifecycle.applyRollbacks();
    if (monitorNow) await lifecycle.monitorCycle();
    await lifecycle.startDueRetrain();
    if (lifecycle.shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      // The spec as it is now: a spec update may have replaced the one this run started with.
      return continueAsNew<typeof modelLifecycle>({ spec: lifecycle.spec, state: lifecycle.state });
    }
  }
}

/** Queries, signals and updates: each validates its input, then records, queues or wakes the loop. */
function wireHandlers(lifecycle: ModelEntity): void {
  const { model, state } = lifecycle;
  setHandler(statusQuery, () => lifecycle.status());

  setHandler(
    setPoliciesUpdate,
    (change) => {
      const { policies, changedBy, reason } = PolicyChange.parse(change);
      return lifecycle.setPolicies(policies, changedBy, reason);
    },
    {
      // Runs before the update is accepted into history: invalid policies are refused, nothing changes.
      validator: (change) => {
        const parsed = PolicyChange.safeParse(change);
        const problems = [
          ...unknownKeyLines(PolicyChange, change),
          ...(parsed.success ? [] : parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`)),
        ];
        if (problems.length) throw new Error(`invalid policies:\n${problems.join('\n')}`);
      },
    },
  );

  setHandler(updateSpecUpdate, (change) => lifecycle.updateSpec(change), {
    // Refused before it enters history; the spec itself is checked by the worker in updateSpec.
    validator: (change) => {
      const by = (change as Partial<SpecChange> | null)?.changedBy;
      if (typeof by !== 'string' || by.trim() === '') throw new Error('changedBy: say who is changing the spec');
      if (typeof change.spec !== 'object' || change.spec === null) throw new Error('spec: the new spec, as an object');
    },
  });

  setHandler(retrainSignal, (raw) => {
    const parsed = RetrainRequest.safeParse(raw);
    if (!parsed.success) return lifecycle.record('ignored retrain signal with invalid input', ...issueLines(parsed.error));
    lifecycle.requestRetrain(requestedTrigger(parsed.data.requestedBy, parsed.data.reason));
  });
  setHandler(dataArrivedSignal, (raw) => {
    const parsed = DataArrived.safeParse(raw);
    if (!parsed.success) return lifecycle.record('ignored dataArrived signal with invalid input', ...issueLines(parsed.error));
    lifecycle.record(`${parsed.data.rows} new rows arrived from ${parsed.data.source}: monitoring now`);
    lifecycle.wakeUp = true;
  });
  setHandler(pauseSignal, () => lifecycle.setPaused(true));
  setHandler(resumeSignal, () => lifecycle.setPaused(false));

  setHandler(rollbackSignal, (raw) => {
    const parsed = RollbackRequest.safeParse(raw);
    if (!parsed.success) return lifecycle.record('ignored rollback signal with invalid input', ...issueLines(parsed.error));
    state.rollbacks.push(parsed.data);
  });
  setHandler(rollbackUpdate, (raw) => lifecycle.rollbackAndWait(RollbackRequest.parse(raw)), {
    // Refused before the update enters history: nothing changes.
    validator: (raw) => {
      const parsed = RollbackRequest.safeParse(raw);
      if (!parsed.success) throw new Error(`invalid rollback: ${issueLines(parsed.error).join('; ')}`);
      const refusal = rollbackRefusal(model, state, parsed.data);
      if (refusal) throw new Error(refusal);
    },
  });

  // Reviews sent to the lifecycle reach the retrain that waits for them.
  const forwardReview = (signal: typeof approveSignal, name: string) => async (review: Review) => {
    if (patched(CHECKED_REVIEWS_PATCH)) {
      const parsed = Review.safeParse(review);
      if (!parsed.success) return lifecycle.record(`ignored ${name} signal with invalid input`, ...issueLines(parsed.error));
      if (!mayReview(lifecycle.spec.approval, parsed.data.reviewer)) {
        return lifecycle.record(
          `refused ${name} from ${parsed.data.reviewer}: not an allowed reviewer`,
          `allowed reviewers: ${lifecycle.spec.approval.reviewers?.join(', ')}`,
        );
      }
    }
    const running = lifecycle.retrainRunning();
    if (!running) return lifecycle.record(`ignored ${name}: no retrain is running`);
    await getExternalWorkflowHandle(running.workflowId).signal(signal, review);
  };
  setHandler(approveSignal, forwardReview(approveSignal, 'approve'));
  setHandler(rejectSignal, forwardReview(rejectSignal, 'reject'));
  // Set after every named handler (signals buffered before then reach theirs): a misspelt signal name is recorded instead of vanishing.
  setDefaultSignalHandler((name) =>
    lifecycle.record(`ignored unknown signal "${name}"`, 'signals: retrain, dataArrived, pause, resume, rollback, approve, reject'),
  );
}
