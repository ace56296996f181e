/**
 * One retraining of one model, from data snapshot to promotion or rollback. Started by the
 * model's lifecycle as a child workflow (ID `model/<name>/retrain/<n>`); every decision it
 * takes is recorded with its reasons in the status query, the workflow result and MLflow.
 */
import {
  CancellationScope,
  condition,
  executeChild,
  log,
  patched,
  proxyActivities,
  setDefaultSignalHandler,
  setHandler,
  sleep,
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
import { beatsChampion, canaryIsWorse, type Score } from '../core/promotion.ts';
import { describeConfig } from '../core/search-space.ts';
import { isRegression, mayReview, type ModelSpec } from '../core/spec.ts';
import { parseDuration } from '../core/duration.ts';
import { LONGER_CALL, SHORT_CALL } from './activity-options.ts';
import { createNotifier } from './alerts.ts';
import { sweep } from './sweep.ts';
import type { TriggerValues, Snapshot } from '../core/contracts.ts';

/** Retrains recorded before this patch trained fixed candidates; new ones run a sweep. */
const AUTOML_SWEEP_PATCH = 'automl-sweep';

const { startRetrainRun, finishRetrainRun, registerChallenger, promoteChampion, tagVersion, deploy, compareCanary } = proxyActivities<Activities>(SHORT_CALL);
const { snapshotTrainingData, validateSnapshot, evaluateChallenger } = proxyActivities<Activities>(LONGER_CALL);

const { trainCandidate } = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry: { maximumAttempts: 3 },
});


export interface RetrainInput {
  spec: ModelSpec;
  /** Sequence number of this retrain within the model's lifecycle. */
  n: number;
  trigger: { reason: string; rules: string[]; values?: TriggerValues };
  championVersion?: string;
  /** The last record id the champion learned from (for a 'sinceChampion' training window). */
  championTrainedThrough?: number;
}

export type RetrainOutcome = 'promoted' | 'rejected' | 'not-better' | 'invalid-data' | 'rolled-back';

export interface RetrainResult {
  outcome: RetrainOutcome;
  version?: string;
  /** Highest labelled record id in the snapshot: what "new labels since training" counts from. */
  trainedThroughRecordId?: number;
  decisions: Decision[];
}

export async function retrain(input: RetrainInput): Promise<RetrainResult> {
  const { spec, trigger, championVersion } = input;
  const model = spec.name;
  const decisions: Decision[] = [];
  let stage = 'snapshot';
  let challengerVersion: string | undefined;
  let review: ReviewDecision | undefined;

  const notify = createNotifier(spec);
  const decide = (what: string, ...reasons: string[]) => {
    decisions.push({ at: new Date().toISOString(), what, reasons });
    log.info(what, { model, reasons });
  };
  const enterStage = (next: string) => {
    stage = next;
    upsertSearchAttributes([{ key: StageKey, value: next }]);
  };

  setHandler(retrainStatusQuery, () => ({ stage, trigger: trigger.reason, challengerVersion, decisions }));

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
    if (stage !== 'awaiting-approval' || review) {
      decide(`ignored ${decision} from ${parsed.data.reviewer}: not awaiting approval (stage ${stage})`);
      return;
    }
    review = { decision, ...parsed.data };
  };
  const allowedReviewers = () => `allowed reviewers: ${spec.approval.reviewers?.join(', ')}`;
  setHandler(approveSignal, (raw) => acceptReview('approve', raw));
  setHandler(rejectSignal, (raw) => acceptReview('reject', raw));
  setHandler(
    reviewUpdate,
    (raw) => {
      review = ReviewDecision.parse(raw);
      return `${review.decision === 'approve' ? 'approved' : 'rejected'} by ${review.reviewer}`;
    },
    {
      validator: (raw) => {
        const parsed = ReviewDecision.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid review: ${issueLines(parsed.error).join('; ')}`);
        if (!mayReview(spec.approval, parsed.data.reviewer)) throw new Error(`reviewer: ${parsed.data.reviewer} may not review ${model} (${allowedReviewers()})`);
        if (stage !== 'awaiting-approval') throw new Error(`retrain is not awaiting approval (stage: ${stage})`);
        if (review) throw new Error(`already ${review.decision}d by ${review.reviewer}`);
      },
    },
  );

  // A misspelt signal name is recorded instead of vanishing.
  setDefaultSignalHandler((name) => decide(`ignored unknown signal "${name}"`, 'this retrain accepts the signals approve and reject'));

  decide(`retrain #${input.n} started`, trigger.reason);
  const run = await startRetrainRun({ model, n: input.n, trigger: trigger.reason, rules: trigger.rules, values: trigger.values, championVersion });
  const finish = async (outcome: RetrainOutcome, extra: Partial<RetrainResult> = {}): Promise<RetrainResult> => {
    enterStage(outcome);
    await finishRetrainRun({ model, runId: run.runId, outcome, decisions, version: challengerVersion });
    return { outcome, decisions, version: challengerVersion, ...extra };
  };

  try {
    // 1. Snapshot and validate: nothing is trained on data that fails validation.
    const snapshot = await snapshotTrainingData({ spec, retrainRun: run, asOf: new Date().toISOString(), championTrainedThrough: input.championTrainedThrough });
    decide(`snapshot of ${snapshot.rows} labelled records`, `content hash ${snapshot.hash}`);
    enterStage('validate');
    const report = await validateSnapshot({ spec, snapshot, retrainRun: run });
    if (!report.ok) {
      decide('data validation failed: no training', ...report.failures);
      return await finish('invalid-data', { trainedThroughRecordId: snapshot.maxRecordId });
    }

    // 2. Find the challenger: an AutoML sweep in its own child workflow.
    let challengerRunId: string;
    if (patched(AUTOML_SWEEP_PATCH)) {
      enterStage('sweep');
      const settings = spec.training.sweep;
      const result = await executeChild(sweep, {
        workflowId: `${workflowInfo().workflowId}/sweep`,
        args: [{ spec, snapshot, retrainRun: run, n: input.n, trainingTaskQueue: trainingTaskQueue(workflowInfo().taskQueue) }],
        typedSearchAttributes: [{ key: ModelNameKey, value: model }],
        staticSummary: `AutoML sweep of ${model}: ${settings.sampler}, up to ${settings.budget.maxTrials} trials, seed ${settings.seed}`,
      });
      const { best, trials } = result;
      challengerRunId = best.runId;
      decide(
        `best trial ${best.trial}: ${describeConfig(best.config)}`,
        `${settings.objective.metric} ${best.objective.at(-1)!.toFixed(4)} after ${best.objective.length} rung(s), ${best.paramCount} parameters`,
        `${trials.length} trials: ${trials.filter((t) => t.state === 'completed').length} completed, ${trials.filter((t) => t.state === 'pruned').length} pruned${result.stoppedBy ? `; ${result.stoppedBy}` : ''}`,
      );
    } else {
      // Histories from before the sweep trained a fixed list of candidates.
      enterStage('train');
      const legacy = (spec.training as unknown as { candidates: unknown[] }).candidates;
      const candidates = await Promise.all(legacy.map((_, index) => trainCandidate({ spec, snapshot, candidateIndex: index, retrainRun: run, n: input.n })));
      const best = [...candidates].sort((a, b) => b.valAccuracy - a.valAccuracy || a.paramCount - b.paramCount)[0];
      challengerRunId = best.runId;
      decide(`best candidate: ${best.description}`);
    }

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

    challengerVersion = (await registerChallenger({ model, candidateRunId: challengerRunId, retrainRunId: run.runId, trigger: trigger.reason })).version;
    decide(`registered version ${challengerVersion} with alias challenger`);

    // 4. Human approval gate.
    if (spec.approval.required) {
      enterStage('awaiting-approval');
      await notify({
        kind: 'approval-needed',
        title: `${model} v${challengerVersion} awaits approval`,
        text: `${decisions.at(-2)?.reasons.join('; ') ?? ''}\nApprove or reject within ${spec.approval.timeout} (then: ${spec.approval.onTimeout}): PERENNIAL_REVIEWER=<you> perennial approve ${model}`,
        fields: { trigger: trigger.reason },
        dedupKey: `approval:${workflowInfo().workflowId}`,
      });
      const timeoutMs = parseDuration(spec.approval.timeout);
      const decided = await condition(() => review !== undefined, timeoutMs);
      if (!decided) {
        review = { decision: spec.approval.onTimeout, reviewer: 'timeout', comment: `no review within ${spec.approval.timeout}` };
      }
      const r = review!;
      decide(`${r.decision === 'approve' ? 'approved' : 'rejected'} by ${r.reviewer}`, ...(r.comment ? [r.comment] : []));
      await tagVersion({ model, version: challengerVersion, tags: { 'perennial.review': r.decision, 'perennial.reviewer': r.reviewer } });
      if (r.decision === 'reject') return await finish('rejected', { trainedThroughRecordId: snapshot.maxRecordId });
    }

    // 5. Canary: a share of live traffic, a bake timer, then a live comparison per step.
    if (championVersion) {
      enterStage('canary');
      for (const step of spec.canary.steps) {
        const since = new Date().toISOString();
        await deploy({ model, champion: championVersion, canary: { version: challengerVersion, weight: step.weight }, reason: `canary ${step.weight * 100}%` });
        await sleep(parseDuration(step.bake));
        const live = await compareCanary({ model, since, championVersion, canaryVersion: challengerVersion, regression: isRegression(spec.label) });
        const line = `live ${live.canary.rmse !== undefined ? 'RMSE' : 'accuracy'} canary ${fmt(live.canary)} vs champion ${fmt(live.champion)} at ${step.weight * 100}% traffic`;
        if (live.canary.n >= spec.canary.minSamples && canaryIsWorse(live, spec.canary.tolerance)) {
          decide('canary is worse than the champion: rolling back', line);
          await deploy({ model, champion: championVersion, reason: `rollback of canary v${challengerVersion}` });
          await tagVersion({ model, version: challengerVersion, tags: { 'perennial.outcome': 'rolled-back' } });
          await notify({ kind: 'rollback', title: `${model} canary v${challengerVersion} rolled back`, text: line, fields: { champion: championVersion } });
          return await finish('rolled-back', { trainedThroughRecordId: snapshot.maxRecordId });
        }
        decide(
          live.canary.n >= spec.canary.minSamples ? 'canary holds up' : `too few labelled canary predictions (${live.canary.n}); the offline evaluation stands`,
          line,
        );
      }
    }

    // 6. Promote.
    await deploy({ model, champion: challengerVersion, reason: `promotion of v${challengerVersion}: ${trigger.reason}` });
    await promoteChampion({ model, version: challengerVersion, previous: championVersion });
    decide(`promoted version ${challengerVersion} to champion`);
    return await finish('promoted', { trainedThroughRecordId: snapshot.maxRecordId });
  } catch (err) {
    // Nothing half-deployed stays behind: put the champion back alone before failing.
    if (championVersion && stage === 'canary') {
      await CancellationScope.nonCancellable(() => deploy({ model, champion: championVersion, reason: 'retrain failed during canary' }));
    }
    await CancellationScope.nonCancellable(() =>
      finishRetrainRun({ model, runId: run.runId, outcome: 'failed', decisions, version: challengerVersion, failed: true }),
    );
    throw err;
  }
}

/** A holdout score: a classifier's accuracy, a regression model's RMSE. */
function score(s: Score): string {
  return s.rmse !== undefined ? `RMSE ${s.rmse === null ? 'n/a' : s.rmse.toFixed(3)}` : (s.accuracy ?? NaN).toFixed(3);
}

/** A live score with its count of labelled predictions. */
function fmt(s: Score): string {
  const value = s.rmse !== undefined ? s.rmse : s.accuracy;
  return value === null || s.n === 0 ? `n/a (0 labelled)` : `${value.toFixed(3)} (${s.n} labelled)`;
}
