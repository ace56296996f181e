/**
 * Every message a person or program can send to Perennial's workflows, with the zod schemas
 * that validate their JSON, and the search-attribute keys that make the Temporal UI readable.
 * Shared by workflows and the client: imports only pure modules.
 */
import type { LiveTestStatus } from './live-test.ts';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { z } from 'zod';
import { builtOnFirstUse } from './lazy-schema.ts';
import { PolicySpec } from './policy.ts';
import { TRAINING_QUEUE_SUFFIX } from './spec-reading.ts';
import type { SweepProgress } from './sweep-loop.ts';
import type { GateResult } from './gates/result.ts';

// ---- payload schemas (built on first use: core/lazy-schema.ts) -----------------------------

const reviewShape = () => ({
  reviewer: z.string().trim().min(1, 'reviewer is required: who is deciding?'),
  comment: z.string().default(''),
});
export const Review = builtOnFirstUse(() => z.object(reviewShape()));
export type Review = z.infer<typeof Review>;

export const ReviewDecision = builtOnFirstUse(() => z.object({ ...reviewShape(), decision: z.enum(['approve', 'reject']) }));
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const RetrainRequest = builtOnFirstUse(() =>
  z.object({
    reason: z.string().trim().min(1, 'say why the model should be retrained'),
    requestedBy: z.string().default('unknown'),
  }),
);
export type RetrainRequest = z.infer<typeof RetrainRequest>;

export const DataArrived = builtOnFirstUse(() =>
  z.object({
    rows: z.number().int().nonnegative(),
    source: z.string().default('unspecified'),
  }),
);
export type DataArrived = z.infer<typeof DataArrived>;

export const RollbackRequest = builtOnFirstUse(() =>
  z.object({
    reason: z.string().trim().min(1, 'say why you are rolling back'),
    requestedBy: z.string().default('unknown'),
    /** Registered version to go back to; defaults to the previous champion. */
    toVersion: z
      .string()
      .trim()
      .regex(/^[1-9][0-9]*$/, 'toVersion must be a registered version number, e.g. "3"')
      .optional(),
  }),
);
export type RollbackRequest = z.infer<typeof RollbackRequest>;

export const PolicyChange = builtOnFirstUse(() =>
  z.object({
    /** The complete new policies (core/policy.ts PolicySpec), replacing the current ones. */
    policies: PolicySpec,
    changedBy: z.string().trim().min(1, 'changedBy is required: who is changing the policies?'),
    reason: z.string().trim().min(1, 'say why the policies change'),
  }),
);
export type PolicyChange = z.infer<typeof PolicyChange>;
export type PolicyChangeInput = z.input<typeof PolicyChange>;

/** A refusal's reasons, one per problem, each naming its field: "reviewer: reviewer is required: who is deciding?". */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
}

// ---- signals, updates, queries ------------------------------------------------------------

/** Sent to a retrain workflow waiting for approval, or to its lifecycle, which forwards it. */
export const approveSignal = defineSignal<[Review]>('approve');
export const rejectSignal = defineSignal<[Review]>('reject');
/** Same decision as a typed update: the caller learns at once whether it was accepted. */
export const reviewUpdate = defineUpdate<string, [ReviewDecision]>('review');

export const dataArrivedSignal = defineSignal<[DataArrived]>('dataArrived');
export const retrainSignal = defineSignal<[RetrainRequest]>('retrain');
export const pauseSignal = defineSignal<[]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
/** Rollback as a validated update: an unknown version is an error to the caller and changes nothing. */
export const rollbackUpdate = defineUpdate<string, [z.input<typeof RollbackRequest>]>('rollback');

/** Replaces the lifecycle's retraining policies at run time; rejected (nothing changes) when invalid. */
export const setPoliciesUpdate = defineUpdate<string, [PolicyChangeInput]>('setPolicies');

/** A new spec for the running lifecycle (`perennial register` of a changed file): checked by the worker, recorded with a diff. */
export interface SpecChange {
  /** The whole new spec, as a spec file gives it; the worker validates it (activities/spec-check.ts). */
  spec: unknown;
  changedBy: string;
}
export const updateSpecUpdate = defineUpdate<string, [SpecChange]>('updateSpec');

export const statusQuery = defineQuery<LifecycleStatus>('status');
export const retrainStatusQuery = defineQuery<RetrainStatus>('retrainStatus');
export const sweepStatusQuery = defineQuery<SweepStatus>('sweepStatus');

// ---- search attributes --------------------------------------------------------------------

export const ModelNameKey = defineSearchAttributeKey('ModelName', SearchAttributeType.KEYWORD);
export const StageKey = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);
export const TriggerReasonKey = defineSearchAttributeKey('TriggerReason', SearchAttributeType.KEYWORD);
export const ChampionVersionKey = defineSearchAttributeKey('ChampionVersion', SearchAttributeType.KEYWORD);
/** A lifecycle's last monitoring verdict: `ok`, `breached: <rules>`, `fired: <rules>` or `cycle failed`. */
export const LastVerdictKey = defineSearchAttributeKey('LastVerdict', SearchAttributeType.KEYWORD);
/** When a lifecycle's other attributes last changed (the fleet view's "updated"). */
export const StatusChangedAtKey = defineSearchAttributeKey('StatusChangedAt', SearchAttributeType.DATETIME);
/** Every attribute a Temporal server must know before Perennial runs on it (stack/services.ts registers them). */
export const SEARCH_ATTRIBUTES = [ModelNameKey, StageKey, TriggerReasonKey, ChampionVersionKey, LastVerdictKey, StatusChangedAtKey];

// ---- workflow ids -------------------------------------------------------------------------

export const lifecycleWorkflowId = (model: string) => `model/${model}`;
export const retrainWorkflowId = (model: string, n: number) => `model/${model}/retrain/${n}`;
export const scheduleId = (model: string) => `model/${model}/schedule`;
/** Trial rungs run on their own task queue, so heavy training has its own worker capacity. */
export const trainingTaskQueue = (taskQueue: string) => `${taskQueue}${TRAINING_QUEUE_SUFFIX}`;

// ---- status shapes ------------------------------------------------------------------------

export interface Decision {
  at: string;
  what: string;
  reasons: string[];
}

export interface LifecycleStatus {
  model: string;
  paused: boolean;
  /** A monitoring cycle is reading the log now (one started before a pause still finishes). */
  monitoringNow: boolean;
  championVersion?: string;
  previousChampions: string[];
  activeRetrain?: { workflowId: string; trigger: string; stage: string };
  pendingTrigger?: string;
  retrainCount: number;
  lastSummary?: unknown;
  /** The retraining policies in force (spec.policies, or the last setPolicies update). */
  policies: PolicySpec;
  /** Breaching cycles counting toward each rule now. */
  breaches: Record<string, number>;
  /** Why rules did not fire or could not be judged in the last cycle. */
  policyNotes: string[];
  cooldownUntil?: string;
  /** When a failed retrain is tried again (the lifecycle's retry policy). */
  retryAt?: string;
  /** The online training mode: updates promoted since the last full retrain, and rejected in a row (core/online.ts). */
  online?: { promoted: number; rejectedInARow: number };
  history: Decision[];
}

/** A sweep's progress, and while it waits for a training permit, that (core/training-permits.ts). */
export type SweepStatus = SweepProgress & { permit?: string };

export interface RetrainStatus {
  /**
   * snapshot, validate, sweep, evaluate, gates, awaiting-approval, shadow, canary or ab-test,
   * then the outcome (promoted, rejected, not-better, failed-gate, invalid-data, rolled-back,
   * rejected-in-shadow).
   */
  stage: string;
  trigger: string;
  challengerVersion?: string;
  decisions: Decision[];
  /** The canary's or A/B test's sequential test at its latest look. */
  liveTest?: LiveTestStatus;
  /** The evaluation gates' results, once they ran (only when the spec names a gate). */
  gates?: GateResult[];
}
