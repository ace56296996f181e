/**
 * One retraining of one model, from data snapshot to promotion or rollback. Started by the
 * model's lifecycle as a child workflow (ID `model/<name>/retrain/<n>`); every decision it
 * takes is recorded with its reasons in the status query, the workflow result and MLflow.
 */
import {
  CancellationScope,
  condition,
  deprecatePatch,
  executeChild,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  approveSignal,
  type Decision,
  issueLines,
  rejectSignal,
  Review,
  ReviewDecision,
  retrainStatusQuery,
  reviewUpdate,
  ModelNameKey,
  StageKey,
  trainingTaskQueue,
} from '../core/messages.ts';
import { beatsChampion, type Score } from '../core/promotion.ts';
import { describeConfig } from '../core/search-space.ts';
import { isOnlineUpdate, onlineSettings, onlineUpdateSpec } from '../core/online.ts';
import type { ModelSpec } from '../core/spec.ts';
import { mayReview, strategyOf } from '../core/spec-reading.ts';
import { parseDuration } from '../core/duration.ts';
import { LONGER_CALL, SHORT_CALL } from './activity-options.ts';
import { createNotifier } from './alerts.ts';
import { sweep } from './sweep.ts';
import { AUTOML_SWEEP_PATCH, SHADOW_PHASE_PATCH } from './legacy/patches.ts';
import { runShadow } from './shadow-phase.ts';
import { runCanary } from './canary.ts';
import { runAbTest } from './ab-test.ts';
import type { LiveTestStatus } from '../core/live-test.ts';
import { passEvaluationGates } from './evaluation-gates.ts';
import type { GateResult } from '../core/gates/result.ts';
import type { TriggerValues } from '../core/contracts.ts';

const { startRetrainRun, finishRetrainRun, registerChallenger, promoteChampion, tagVersion, deploy } =
  proxyActivities<Activities>(SHORT_CALL);
const { snapshotTrainingData, validateSnapshot, evaluateChallenger } = proxyActivities<Activities>(LONGER_CALL);

export interface RetrainInput {
  spec: ModelSpec;
  /** Sequence number of this retrain within the model's lifecycle. */
  n: number;
  trigger: { reason: string; rules: string[]; values?: TriggerValues };
  championVersion?: string;
  /** The last record id the champion learned from (for a 'sinceChampion' training window). */
  championTrainedThrough?: number;
}

/**
 * 'rolled-back': the canary did worse on live traffic; 'rejected-in-shadow': the shadow did worse
 * before any user saw its predictions (its own name, so searches tell the two apart);
 * 'failed-gate': an evaluation gate stopped the challenger before registration.
 */
export type RetrainOutcome = 'promoted' | 'rejected' | 'not-better' | 'failed-gate' | 'invalid-data' | 'rolled-back' | 'rejected-in-shadow';

export interface RetrainResult {
  outcome: RetrainOutcome;
  version?: string;
  /** Highest labelled record id in the snapshot: what "new labels since training" counts from. */
  trainedThroughRecordId?: number;
  decisions: Decision[];
}

/** What a retrain's handlers, its gates and its main line share: where it stands and what it decided. */
export interface RetrainProgress {
  spec: ModelSpec;
  stage: string;
  decisions: Decision[];
  /** The review that decided the approval gate: a person's, or the timeout's default. */
  review?: ReviewDecision;
  /** The live test's latest look (canary or A/B), while one runs and after. */
  live?: LiveTestStatus;
  /** The evaluation gates' results, once they ran. */
  gates?: GateResult[];
  decide(what: string, ...reasons: string[]): void;
  enterStage(next: string): void;
  notify: ReturnType<typeof createNotifier>;
}

export async function retrain(input: RetrainInput): Promise<RetrainResult> {
  const { spec, trigger, championVersion } = input;
  const model = spec.name;
  const decisions: Decision[] = [];
  let challengerVersion: string | undefined;
  const progress: RetrainProgress = {
    spec,
    stage: 'snapshot',
    decisions,
    decide: (what, ...reasons) => {
      decisions.push({ at: new Date().toISOString(), what, reasons });
      log.info(what, { model, reasons });
    },
    enterStage: (next) => {
      progress.stage = next;
      upsertSearchAttributes([{ key: StageKey, value: next }]);
    },
    notify: createNotifier(spec),
  };
  const { decide, enterStage } = progress;

  setHandler(retrainStatusQuery, () => ({
    stage: progress.stage,
    trigger: trigger.reason,
    challengerVersion,
    decisions,
    ...(progress.live && { liveTest: progress.live }),
    ...(progress.gates ? { gates: progress.gates } : {}),
  }));

  // Approval arrives as a plain-JSON signal (Temporal UI, `temporal workflow signal`) or as a
  // validated update from the client; the first valid decision wins.
  const acceptReview = (decision: 'approve' | 'reject', raw: unknown) => {
    const parsed = Review.safeParse(raw);
    if (!parsed.success) {
      decide(`ignored ${decision} signal with invalid input`, ...issueLines(parsed.error));
      return;
    }
    if (!mayReview(spec.approval, parsed.data.reviewer)) {
      decide(`refused ${decision} from ${parsed.data.reviewer}: not an allowed reviewer`, allowedReviewers());
      return;
    }
    if (progress.stage !== 'awaiting-approval' || progress.review) {
      decide(`ignored ${decision} from ${parsed.data.reviewer}: not awaiting approval (stage ${progress.stage})`);
      return;
    }
    progress.review = { decision, ...parsed.data };
  };
  const allowedReviewers = () => `allowed reviewers: ${spec.approval.reviewers?.join(', ')}`;
  setHandler(approveSignal, (raw) => acceptReview('approve', raw));
  setHandler(rejectSignal, (raw) => acceptReview('reject', raw));
  setHandler(
    reviewUpdate,
    (raw) => {
      const review = (progress.review = ReviewDecision.parse(raw));
      return `${review.decision === 'approve' ? 'approved' : 'rejected'} by ${review.reviewer}`;
    },
    {
      validator: (raw) => {
        const parsed = ReviewDecision.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid review: ${issueLines(parsed.error).join('; ')}`);
        if (!mayReview(spec.approval, parsed.data.reviewer))
          throw new Error(`reviewer: ${parsed.data.reviewer} may not review ${model} (${allowedReviewers()})`);
        if (progress.stage !== 'awaiting-approval') throw new Error(`retrain is not awaiting approval (stage: ${progress.stage})`);
        if (progress.review) throw new Error(`already ${progress.review.decision}d by ${progress.review.reviewer}`);
      },
    },
  );

  // A misspelt signal name is recorded instead of vanishing.
  setDefaultSignalHandler((name) => decide(`ignored unknown signal "${name}"`, 'this retrain accepts the signals approve and reject'));

  decide(`retrain #${input.n} started`, trigger.reason);
  const run = await startRetrainRun({
    model,
    n: input.n,
    trigger: trigger.reason,
    rules: trigger.rules,
    values: trigger.values,
    championVersion,
  });
  const finish = async (outcome: RetrainOutcome, extra: Partial<RetrainResult> = {}): Promise<RetrainResult> => {
    enterStage(outcome);
    await finishRetrainRun({ model, runId: run.runId, outcome, decisions, version: challengerVersion });
    return { outcome, decisions, version: challengerVersion, ...extra };
  };

  // An online update (core/online.ts) learns the labels since the champion's, in one warm-start trial.
  const update = isOnlineUpdate(trigger) && championVersion !== undefined;
  const training = update ? onlineUpdateSpec(spec) : spec;
  try {
    // 1. Snapshot and validate: nothing is trained on data that fails validation.
    const snapshot = await snapshotTrainingData({
      spec: training,
      retrainRun: run,
      asOf: new Date().toISOString(),
      championTrainedThrough: input.championTrainedThrough,
    });
    decide(`snapshot of ${snapshot.rows} labelled records`, `content hash ${snapshot.hash}`);
    enterStage('validate');
    const report = await validateSnapshot({ spec, snapshot, retrainRun: run });
    if (!report.ok) {
      decide('data validation failed: no training', ...report.failures);
      return await finish('invalid-data', { trainedThroughRecordId: snapshot.maxRecordId });
    }

    // 2. Find the challenger: an AutoML sweep in its own child workflow (an update's: one trial).
    deprecatePatch(AUTOML_SWEEP_PATCH);
    enterStage('sweep');
    const settings = training.training.sweep;
    const result = await executeChild(sweep, {
      workflowId: `${workflowInfo().workflowId}/sweep`,
      args: [
        {
          spec: training,
          snapshot,
          retrainRun: run,
          n: input.n,
          trainingTaskQueue: trainingTaskQueue(workflowInfo().taskQueue),
          championVersion,
        },
      ],
      typedSearchAttributes: [{ key: ModelNameKey, value: model }],
      staticSummary: update
        ? `online update of ${model} v${championVersion}: ${settings.budget.maxEpochsPerTrial} epochs on the labels since`
        : `AutoML sweep of ${model}: ${settings.sampler}, up to ${settings.budget.maxTrials} trials, seed ${settings.seed}`,
    });
    const { best, trials } = result;
    const challengerRunId = best.runId;
    decide(
      `best trial ${best.trial}: ${describeConfig(best.config)}`,
      `${settings.objective.metric} ${best.objective.at(-1)!.toFixed(4)} after ${best.objective.length} rung(s), ${best.paramCount} parameters`,
      `${trials.length} trials: ${trials.filter((t) => t.state === 'completed').length} completed, ${trials.filter((t) => t.state === 'pruned').length} pruned${result.stoppedBy ? `; ${result.stoppedBy}` : ''}`,
      ...(result.notes ?? []),
    );

    // 3. Evaluate the challenger against the champion on the most recent holdout.
    enterStage('evaluate');
    const evaluation = await evaluateChallenger({ spec, snapshot, challengerRunId, championVersion, retrainRun: run });
    const verdict = `challenger ${score(evaluation.challenger)} vs champion ${
      evaluation.champion ? `v${championVersion} ${score(evaluation.champion)}` : '(none)'
    } on ${evaluation.challenger.n} recent holdout rows`;
    if (!beatsChampion(evaluation, spec.evaluation.minImprovement)) {
      decide('challenger is not better than the champion: keeping the champion', verdict);
      return await finish('not-better', { trainedThroughRecordId: snapshot.maxRecordId });
    }
    decide('challenger beats the champion', verdict);
    const gates = await passEvaluationGates(progress, {
      snapshot,
      challengerRunId,
      championVersion,
      championTrainedThrough: input.championTrainedThrough,
      retrainRun: run,
    });
    if (gates === 'failed-gate') return await finish(gates, { trainedThroughRecordId: snapshot.maxRecordId });

    challengerVersion = (
      await registerChallenger({ model, candidateRunId: challengerRunId, retrainRunId: run.runId, trigger: trigger.reason })
    ).version;
    decide(`registered version ${challengerVersion} with alias challenger`);

    // 4. Human approval gate.
    if (spec.approval.required && update && onlineSettings(spec).skipApproval) {
      decide('no review asked: an online update (training.online.skipApproval)');
    } else if (spec.approval.required) {
      const review = await awaitReview(progress, challengerVersion, trigger.reason);
      if (review.decision === 'reject') return await finish('rejected', { trainedThroughRecordId: snapshot.maxRecordId });
    }

    // 5. Shadow (when the spec asks for it): a copy of live traffic, compared with the champion's
    // answers. Guarded: a retrain recorded before this phase existed replays without it.
    if (championVersion && strategyOf(spec) === 'shadow-then-canary' && spec.shadow && patched(SHADOW_PHASE_PATCH)) {
      const shadow = await runShadow(progress, spec.shadow, championVersion, challengerVersion);
      if (shadow === 'rejected-in-shadow') return await finish(shadow, { trainedThroughRecordId: snapshot.maxRecordId });
    }

    // 6. The live test of the spec's strategy: a canary or an A/B test, judged on live labels
    // (workflows/canary.ts, workflows/ab-test.ts); 'direct' goes straight to promotion.
    if (championVersion) {
      const strategy = strategyOf(spec);
      const ctx = { championVersion, challengerVersion, retrainRun: run, championHoldout: evaluation.champion };
      if (strategy === 'direct') decide('direct deployment: no live test (deployment.strategy direct)');
      else if (strategy === 'ab') {
        const ab = await runAbTest(progress, ctx);
        if (ab === 'rolled-back') return await finish('rolled-back', { trainedThroughRecordId: snapshot.maxRecordId });
        if (ab === 'keep-champion') return await finish('not-better', { trainedThroughRecordId: snapshot.maxRecordId });
      } else {
        const canary = await runCanary(progress, ctx);
        if (canary === 'rolled-back') return await finish('rolled-back', { trainedThroughRecordId: snapshot.maxRecordId });
      }
    }

    // 7. Promote.
    await deploy({ model, champion: challengerVersion, reason: `promotion of v${challengerVersion}: ${trigger.reason}` });
    await promoteChampion({ model, version: challengerVersion, previous: championVersion });
    decide(`promoted version ${challengerVersion} to champion`);
    return await finish('promoted', { trainedThroughRecordId: snapshot.maxRecordId });
  } catch (err) {
    // Nothing half-deployed stays behind: put the champion back alone before failing.
    if (championVersion && ['canary', 'shadow', 'ab-test'].includes(progress.stage)) {
      const reason = `retrain failed during ${progress.stage}`;
      await CancellationScope.nonCancellable(() => deploy({ model, champion: championVersion, reason }));
    }
    await CancellationScope.nonCancellable(() =>
      finishRetrainRun({ model, runId: run.runId, outcome: 'failed', decisions, version: challengerVersion, failed: true }),
    );
    throw err;
  }
}

/**
 * The human approval gate: announces the challenger, then waits for a review (the handlers in
 * retrain() accept it) until the spec's timeout decides by its default. Tags the version with
 * the review either way.
 */
async function awaitReview(progress: RetrainProgress, challengerVersion: string, trigger: string): Promise<ReviewDecision> {
  const { spec, decisions, decide } = progress;
  const model = spec.name;
  progress.enterStage('awaiting-approval');
  await progress.notify({
    kind: 'approval-needed',
    title: `${model} v${challengerVersion} awaits approval`,
    text: `${decisions.find((d) => d.what === 'challenger beats the champion')?.reasons.join('; ') ?? ''}\nApprove or reject within ${spec.approval.timeout} (then: ${spec.approval.onTimeout}): PERENNIAL_REVIEWER=<you> perennial approve ${model}`,
    fields: { trigger },
    dedupKey: `approval:${workflowInfo().workflowId}`,
  });
  const decided = await condition(() => progress.review !== undefined, parseDuration(spec.approval.timeout));
  if (!decided) {
    progress.review = { decision: spec.approval.onTimeout, reviewer: 'timeout', comment: `no review within ${spec.approval.timeout}` };
  }
  const review = progress.review!;
  decide(`${review.decision === 'approve' ? 'approved' : 'rejected'} by ${review.reviewer}`, ...(review.comment ? [review.comment] : []));
  await tagVersion({
    model,
    version: challengerVersion,
    tags: { 'perennial.review': review.decision, 'perennial.reviewer': review.reviewer },
  });
  return review;
}

/** A holdout score: a classifier's accuracy, a regression model's RMSE. */
function score(s: Score): string {
  return s.rmse !== undefined ? `RMSE ${s.rmse === null ? 'n/a' : s.rmse.toFixed(3)}` : (s.accuracy ?? NaN).toFixed(3);
}
