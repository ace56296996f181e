/**
 * The typed programmatic client: everything the CLI, the demo and the tests do to a model goes
 * through here, and from here through Temporal.
 */
import { Client, Connection, ScheduleOverlapPolicy, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy } from '@temporalio/common';
import {
  approveSignal,
  dataArrivedSignal,
  lifecycleWorkflowId,
  ModelNameKey,
  pauseSignal,
  rejectSignal,
  resumeSignal,
  retrainSignal,
  retrainStatusQuery,
  Review,
  PolicyChange,
  type PolicyChangeInput,
  reviewUpdate,
  setPoliciesUpdate,
  RollbackRequest,
  RetrainRequest,
  rollbackSignal,
  rollbackUpdate,
  scheduleId,
  StageKey,
  StatusChangedAtKey,
  statusQuery,
  sweepStatusQuery,
  type SweepStatus,
  type LifecycleStatus,
  type RetrainStatus,
  updateSpecUpdate,
} from '../core/messages.ts';
import { formatIssues, type ModelSpec } from '../core/spec.ts';
import type { LifecycleStage } from '../core/lifecycle/fleet-view.ts';
import { parseDuration } from '../core/duration.ts';
import { unknownKeyLines } from '../core/known-keys.ts';
import type { modelLifecycle, scheduledRetrain, trainingPermits } from '../workflows/index.ts';
import {
  setTrainingLimitUpdate,
  TRAINING_PERMITS_WORKFLOW_ID,
  TrainingLimit,
  trainingPermitsQuery,
  type TrainingPermitsState,
  waitingForPermit,
} from '../core/training-permits.ts';
import { dataConverter, TASK_QUEUE, temporalConfig, type TemporalConfig } from '../config/environment.ts';

/** A policy change that does not validate; nothing was sent. */
export class PolicyChangeError extends Error {
  override name = 'PolicyChangeError';
}

/** A rollback the lifecycle refused (unknown version, nothing to return to, invalid request); nothing changed. */
export class RollbackRefusedError extends Error {
  override name = 'RollbackRefusedError';
}

/** A training limit that does not validate; nothing was sent. */
export class TrainingLimitError extends Error {
  override name = 'TrainingLimitError';
}

export class PerennialClient {
  private constructor(
    readonly temporal: Client,
    private readonly connection: Connection,
    readonly taskQueue: string,
  ) {}

  static async connect(config: TemporalConfig = temporalConfig(), taskQueue = TASK_QUEUE): Promise<PerennialClient> {
    const connection = await Connection.connect({ address: config.address, tls: config.tls, apiKey: config.apiKey }).catch((err: Error) => {
      throw new Error(`cannot reach Temporal at ${config.address}: ${err.message}`);
    });
    return new PerennialClient(
      new Client({ connection, namespace: config.namespace, dataConverter: dataConverter(config) }),
      connection,
      taskQueue,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Starts the model's lifecycle and its retraining Schedule, on the spec's task queue when it
   * names one. A lifecycle already running takes the spec as an update (`started` is false, and
   * `change` says what changed, or that nothing did): the lifecycle records the diff and retrains
   * when what training uses changed. An invalid spec, or one that moves the task queue, is refused
   * and changes nothing.
   */
  async register(
    spec: ModelSpec,
    changedBy = process.env.USER ?? 'cli',
  ): Promise<{ workflowId: string; started: boolean; change?: string }> {
    const workflowId = lifecycleWorkflowId(spec.name);
    const taskQueue = spec.taskQueue ?? this.taskQueue;
    let started = true;
    try {
      await this.temporal.workflow.start<typeof modelLifecycle>('modelLifecycle', {
        workflowId,
        taskQueue,
        args: [{ spec }],
        // FAIL rather than USE_EXISTING: the SDK's handle does not say whether it started one.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        // Listed at once (perennial list); the lifecycle replaces the stage as soon as it has one.
        typedSearchAttributes: [
          { key: ModelNameKey, value: spec.name },
          { key: StageKey, value: 'starting' satisfies LifecycleStage },
          { key: StatusChangedAtKey, value: new Date() },
        ],
        staticSummary: `lifecycle of model ${spec.name}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      started = false;
    }
    const change = started ? undefined : await this.updateSpec(spec, changedBy);
    if (spec.schedule) await this.upsertSchedule(spec.name, parseDuration(spec.schedule.every), taskQueue);
    return { workflowId, started, change };
  }

  /** Sends `spec` to the model's running lifecycle; answers what changed. */
  async updateSpec(spec: ModelSpec, changedBy: string): Promise<string> {
    try {
      return await this.lifecycle(spec.name).executeUpdate(updateSpecUpdate, { args: [{ spec, changedBy }] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new Error(`the lifecycle of ${spec.name} refused the new spec: ${err.cause?.message ?? err.message}`, { cause: err });
      throw err;
    }
  }

  private async upsertSchedule(model: string, everyMs: number, taskQueue: string) {
    const id = scheduleId(model);
    const options = {
      scheduleId: id,
      spec: { intervals: [{ every: everyMs }] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: 'scheduledRetrain',
        args: [model] as Parameters<typeof scheduledRetrain>,
        // The tick runs with the model's workers: its signal is part of the model's own work.
        taskQueue,
        workflowId: `${id}/tick`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    };
    try {
      await this.temporal.schedule.create(options);
    } catch (err) {
      if ((err as Error).name !== 'ScheduleAlreadyRunning') throw err;
      await this.temporal.schedule.getHandle(id).update((prev) => ({ ...prev, spec: options.spec }));
    }
  }

  /** Stops the lifecycle (cancellation lets it finish cleanly) and deletes its Schedule. */
  async stop(model: string): Promise<void> {
    await this.temporal.schedule
      .getHandle(scheduleId(model))
      .delete()
      .catch(() => undefined);
    await this.temporal.workflow.getHandle(lifecycleWorkflowId(model)).cancel();
  }

  status(model: string): Promise<LifecycleStatus> {
    return this.lifecycle(model).query(statusQuery);
  }

  retrainStatus(workflowId: string): Promise<RetrainStatus> {
    return this.temporal.workflow.getHandle(workflowId).query(retrainStatusQuery);
  }

  /** The sweep of a retrain: its progress, or that it waits for a training permit. */
  sweepStatus(retrainWorkflowId: string): Promise<SweepStatus> {
    return this.temporal.workflow.getHandle(`${retrainWorkflowId}/sweep`).query(sweepStatusQuery);
  }

  async retrain(model: string, request: RetrainRequest): Promise<void> {
    await this.lifecycle(model).signal(retrainSignal, RetrainRequest.parse(request));
  }

  async dataArrived(model: string, rows: number, source: string): Promise<void> {
    await this.lifecycle(model).signal(dataArrivedSignal, { rows, source });
  }

  async pause(model: string): Promise<void> {
    await this.lifecycle(model).signal(pauseSignal);
  }

  async resume(model: string): Promise<void> {
    await this.lifecycle(model).signal(resumeSignal);
  }

  /**
   * Puts an earlier champion back in service, as a validated update: the answer comes when the
   * rollback is done, and an unknown version (or nothing to return to) is a RollbackRefusedError
   * before anything changes.
   */
  async rollback(model: string, request: RollbackRequest): Promise<string> {
    try {
      return await this.lifecycle(model).executeUpdate(rollbackUpdate, { args: [RollbackRequest.parse(request)] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new RollbackRefusedError(`rollback of ${model} refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  }

  /** The same rollback as a plain signal, as the Temporal UI sends it: refusals are recorded in the lifecycle's history. */
  async rollbackBySignal(model: string, request: RollbackRequest): Promise<void> {
    await this.lifecycle(model).signal(rollbackSignal, RollbackRequest.parse(request));
  }

  /**
   * Approves or rejects the retrain waiting for review, as a validated update: the answer says
   * whether it was accepted, and an invalid review or a retrain not waiting is an error here.
   */
  async review(model: string, decision: 'approve' | 'reject', review: Review): Promise<string> {
    const parsed = Review.parse(review);
    const active = (await this.status(model)).activeRetrain;
    if (!active) throw new Error(`model ${model} has no retrain running`);
    return this.temporal.workflow
      .getHandle(active.workflowId)
      .executeUpdate(reviewUpdate, { args: [{ decision, ...parsed }] })
      .catch((err: Error) => {
        // The workflow's reason (not allowed to review, not waiting) rather than "Workflow Update failed".
        throw err instanceof WorkflowUpdateFailedError ? new Error(`${decision} refused: ${err.cause?.message ?? err.message}`) : err;
      });
  }

  /**
   * Replaces the model's retraining policies at run time. Validated client-side for a readable
   * error, and again by the workflow's update validator; an invalid change alters nothing.
   */
  async setPolicies(model: string, change: PolicyChangeInput): Promise<string> {
    const parsed = PolicyChange.safeParse(change);
    const problems = [...unknownKeyLines(PolicyChange, change), ...(parsed.success ? [] : [formatIssues(parsed.error)])];
    if (!parsed.success || problems.length) throw new PolicyChangeError(`invalid policy change:\n${problems.join('\n')}`);
    return this.lifecycle(model).executeUpdate(setPoliciesUpdate, { args: [parsed.data] });
  }

  /** The same decision as a plain signal, as the Temporal UI sends it. */
  async reviewBySignal(model: string, decision: 'approve' | 'reject', review: Review): Promise<void> {
    await this.lifecycle(model).signal(decision === 'approve' ? approveSignal : rejectSignal, Review.parse(review));
  }

  /**
   * Sets how many sweeps may train at once in the namespace (null: no limit), starting the
   * training permits workflow on this client's task queue if it is not running, and answers
   * with its state. Checked here first, so a bad value starts and changes nothing.
   */
  async setTrainingLimit(limit: number | null, options: { checkHoldersEvery?: string } = {}): Promise<TrainingPermitsState> {
    const parsed = TrainingLimit.safeParse({ limit });
    if (!parsed.success) throw new TrainingLimitError(`invalid training limit:\n${formatIssues(parsed.error)}`);
    await this.temporal.workflow.start<typeof trainingPermits>('trainingPermits', {
      workflowId: TRAINING_PERMITS_WORKFLOW_ID,
      taskQueue: this.taskQueue,
      args: [options],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: 'training permits: how many sweeps train at once in this namespace',
    });
    // Not start's handle: with USE_EXISTING it takes the current run for the first of its chain,
    // and once the permits workflow has continued as new, an update through it finds no execution.
    return this.temporal.workflow.getHandle(TRAINING_PERMITS_WORKFLOW_ID).executeUpdate(setTrainingLimitUpdate, { args: [parsed.data] });
  }

  /** How a retrain's sweep waits for a training permit, with its live place in the queue; undefined when it does not wait. */
  async permitWait(retrainWorkflowId: string): Promise<string | undefined> {
    const sweep = await this.sweepStatus(retrainWorkflowId);
    if (!sweep.permit) return undefined;
    const ahead = (await this.trainingPermits())?.queue.findIndex((w) => w.sweepWorkflowId === `${retrainWorkflowId}/sweep`) ?? -1;
    return ahead >= 0 ? waitingForPermit(ahead) : sweep.permit;
  }

  /** The namespace's training limit, holders and queue; undefined when no limit was ever set. */
  async trainingPermits(): Promise<TrainingPermitsState | undefined> {
    try {
      return await this.temporal.workflow.getHandle(TRAINING_PERMITS_WORKFLOW_ID).query(trainingPermitsQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  private lifecycle(model: string) {
    return this.temporal.workflow.getHandle(lifecycleWorkflowId(model));
  }
}

export { WorkflowNotFoundError };
