/**
 * modelLifecycle: the long-running entity workflow of one managed model (ID `model/<name>`).
 * On a durable timer it asks production how the champion is doing, evaluates the retraining
 * policies, and starts a `retrain` child when they fire. Triggers that arrive while a retrain
 * runs coalesce into one follow-up. The workflow continues-as-new when Temporal suggests it.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancelledFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  rootCause,
  setCurrentDetails,
  setDefaultSignalHandler,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  approveSignal,
  ChampionVersionKey,
  DataArrived,
  dataArrivedSignal,
  type Decision,
  issueLines,
  type LifecycleStatus,
  ModelNameKey,
  pauseSignal,
  rejectSignal,
  resumeSignal,
  RetrainRequest,
  retrainSignal,
  retrainWorkflowId,
  PolicyChange,
  Review,
  RollbackRequest,
  rollbackSignal,
  rollbackUpdate,
  setPoliciesUpdate,
  StageKey,
  statusQuery,
  TriggerReasonKey,
} from '../core/messages.ts';
import type { MonitoringSummary } from '../core/monitoring.ts';
import { compileRules, evaluatePolicies, type FiredRule, initialPolicyState, type PolicySpec, type PolicyState, startCooldown } from '../core/policy.ts';
import { evaluatePoliciesV1, type MonitoringSummaryV1, type PolicyStateV1, startCooldownV1 } from '../core/policy-v1.ts';
import { mayReview, type ModelSpec } from '../core/spec.ts';
import { parseDuration } from '../core/duration.ts';
import { findingAlerts } from '../core/alerts.ts';
import { unknownKeyLines } from '../core/known-keys.ts';
import { SHORT_CALL } from './activity-options.ts';
import { createNotifier } from './alerts.ts';
import { retrain, type RetrainResult } from './retrain.ts';
import type { MonitorCursors, MonitorResult } from '../core/contracts.ts';

/** Lifecycles recorded before this patch kept policy triggers across a promotion. */
const STALE_TRIGGERS_PATCH = 'drop-stale-triggers-on-promotion';
/** Before this patch, monitoring was summarizeProduction judged by core/policy-v1.ts. */
const POLICY_RULES_PATCH = 'policy-rules-v2';
/** Before this patch, a rollback to an unknown or unloadable version failed the lifecycle. */
const SAFE_ROLLBACK_PATCH = 'refuse-bad-rollbacks';
/** Before this patch, the lifecycle forwarded every review to the retrain unchecked. */
const CHECKED_REVIEWS_PATCH = 'check-forwarded-reviews';
/** Before this patch, a failed retrain was recorded and not retried. */
const RETRAIN_RETRY_PATCH = 'retry-failed-retrains';

/**
 * The retry policy of a failed retrain (one that threw, not one that decided against its
 * challenger, nor one cancelled by a person): the same trigger again after each of these
 * delays, then it is given up and the next trigger starts afresh. Activities already ride out
 * 15 minutes of outage, so a failure here is rarely transient; two more attempts tell.
 */
const RETRAIN_RETRY_DELAYS = ['1m', '5m'];

// A monitoring cycle that fails is skipped (see the main loop), so a few attempts are enough.
const { summarizeProduction, monitorChampion } = proxyActivities<Activities>({ startToCloseTimeout: '5m', heartbeatTimeout: '30s', retry: { maximumAttempts: 3 } });
const { deploy, promoteChampion, currentChampion, registeredVersion } = proxyActivities<Activities>(SHORT_CALL);

const HISTORY_LIMIT = 50;

interface Trigger {
  reason: string;
  rules: string[];
  /** Per fired policy rule, the values that made it fire. */
  values?: Record<string, Record<string, number>>;
}

/** Everything the lifecycle carries across continue-as-new: plain JSON. */
export interface LifecycleState {
  championVersion?: string;
  previousChampions: string[];
  retrainCount: number;
  paused: boolean;
  /** Sensitivity windows and cooldown (PolicyStateV1 in lifecycles recorded before policy-rules-v2). */
  policy: PolicyState | PolicyStateV1;
  /** Policies set at run time by the setPolicies update; spec.policies until then. */
  policies?: PolicySpec;
  /** Where monitoring of the current champion stands: cycle count, log cursors, detector states. */
  monitor?: MonitorCursors;
  championSinceMs?: number;
  /** The last record id the champion learned from; unknown after a rollback. */
  championTrainedThrough?: number;
  lastRetrainMs?: number;
  policyNotes?: string[];
  feedbackCursor: number;
  trainedThroughRecordId: number;
  pendingTrigger?: Trigger;
  /** A failed retrain's trigger, due again at `atMs` (RETRAIN_RETRY_DELAYS); `failures` so far. */
  retry?: { trigger: Trigger; failures: number; atMs: number };
  rollbacks: RollbackRequest[];
  lastSummary?: MonitoringSummary | MonitoringSummaryV1;
  history: Decision[];
}

export interface LifecycleInput {
  spec: ModelSpec;
  state?: LifecycleState;
}

export async function modelLifecycle({ spec, state: carried }: LifecycleInput): Promise<void> {
  const model = spec.name;
  const state: LifecycleState = carried ?? {
    previousChampions: [],
    retrainCount: 0,
    paused: false,
    policy: initialPolicyState(),
    feedbackCursor: 0,
    trainedThroughRecordId: 0,
    rollbacks: [],
    history: [],
  };
  let active: { n: number; workflowId: string; trigger: Trigger; failures: number; result?: RetrainResult; error?: string; cancelled?: boolean; done: boolean } | undefined;
  // Rollbacks an update waits for, and what became of them (the request object is the key).
  const awaitedRollbacks = new Set<RollbackRequest>();
  const rollbackOutcomes = new Map<RollbackRequest, { ok: boolean; message: string }>();
  let wakeUp = false;
  // Pausing does not cancel a cycle already reading the log: it finishes and records its summary.
  let cycleRunning = false;
  const notify = createNotifier(spec);

  const record = (what: string, ...reasons: string[]) => {
    state.history.push({ at: new Date().toISOString(), what, reasons });
    state.history.splice(0, Math.max(0, state.history.length - HISTORY_LIMIT));
    log.info(what, { model, reasons });
    setCurrentDetails(`**${model}** champion: ${state.championVersion ? `v${state.championVersion}` : 'none'}\n\nlast: ${what}`);
  };

  // A trigger while a retrain runs does not start a second one: it becomes one follow-up.
  const requestRetrain = (trigger: Trigger) => {
    const sameRules = state.pendingTrigger && state.pendingTrigger.rules.join() === trigger.rules.join();
    if (sameRules && !trigger.rules.includes('manual')) {
      // The same policies breaching again: keep the latest evidence, not a growing list.
      state.pendingTrigger = trigger;
    } else if (state.pendingTrigger) {
      state.pendingTrigger = {
        reason: `${state.pendingTrigger.reason}; ${trigger.reason}`,
        rules: [...new Set([...state.pendingTrigger.rules, ...trigger.rules])],
      };
    } else {
      state.pendingTrigger = trigger;
    }
    if (active && !active.done) record('retrain requested while one runs: coalesced into a follow-up', trigger.reason);
  };

  const currentPolicies = () => state.policies ?? spec.policies;

  setHandler(statusQuery, (): LifecycleStatus => ({
    model,
    paused: state.paused,
    monitoringNow: cycleRunning,
    championVersion: state.championVersion,
    previousChampions: state.previousChampions,
    activeRetrain: active && !active.done ? { workflowId: active.workflowId, trigger: active.trigger.reason, stage: 'running' } : undefined,
    pendingTrigger: state.pendingTrigger?.reason,
    retrainCount: state.retrainCount,
    lastSummary: state.lastSummary,
    policies: currentPolicies(),
    breaches: breachCounts(state.policy),
    policyNotes: state.policyNotes ?? [],
    cooldownUntil: state.policy.cooldownUntil ? new Date(state.policy.cooldownUntil).toISOString() : undefined,
    retryAt: state.retry ? new Date(state.retry.atMs).toISOString() : undefined,
    history: state.history,
  }));

  setHandler(
    setPoliciesUpdate,
    (change) => {
      const { policies, changedBy, reason } = PolicyChange.parse(change);
      const rules = (p: PolicySpec) => compileRules(p).map((r) => r.name).join(', ') || 'none';
      record(`policies changed by ${changedBy}`, reason, `rules before: ${rules(currentPolicies())}`, `rules now: ${rules(policies)}`, JSON.stringify(policies));
      state.policies = policies;
      // Evidence gathered under the old rules does not count toward the new ones.
      state.policy = { windows: {}, cooldownUntil: state.policy.cooldownUntil };
      wakeUp = true;
      return `policies updated: ${rules(policies)}`;
    },
    {
      // Runs before the update is accepted into history: invalid policies are refused, nothing changes.
      validator: (change) => {
        const parsed = PolicyChange.safeParse(change);
        const problems = [...unknownKeyLines(PolicyChange, change), ...(parsed.success ? [] : parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`))];
        if (problems.length) throw new Error(`invalid policies:\n${problems.join('\n')}`);
      },
    },
  );

  setHandler(retrainSignal, (raw) => {
    const parsed = RetrainRequest.safeParse(raw);
    if (!parsed.success) return record('ignored retrain signal with invalid input', ...issueLines(parsed.error));
    const { requestedBy, reason } = parsed.data;
    requestRetrain({ reason: `${requestedBy === 'schedule' ? 'schedule' : `manual (${requestedBy})`}: ${reason}`, rules: [requestedBy === 'schedule' ? 'schedule' : 'manual'] });
  });
  setHandler(dataArrivedSignal, (raw) => {
    const parsed = DataArrived.safeParse(raw);
    if (!parsed.success) return record('ignored dataArrived signal with invalid input', ...issueLines(parsed.error));
    record(`${parsed.data.rows} new rows arrived from ${parsed.data.source}: monitoring now`);
    wakeUp = true;
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
    record('paused: no monitoring or policy-triggered retrains until resumed');
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    record('resumed');
    wakeUp = true;
  });
  setHandler(rollbackSignal, (raw) => {
    const parsed = RollbackRequest.safeParse(raw);
    if (!parsed.success) return record('ignored rollback signal with invalid input', ...issueLines(parsed.error));
    state.rollbacks.push(parsed.data);
  });
  setHandler(
    rollbackUpdate,
    async (raw) => {
      const request = RollbackRequest.parse(raw);
      const target = rollbackTarget(request)!;
      if (!(await registeredVersion({ model, version: target }))) {
        throw ApplicationFailure.create({ type: 'UnknownVersion', nonRetryable: true, message: `toVersion: ${target} is not a registered version of ${model}` });
      }
      awaitedRollbacks.add(request);
      state.rollbacks.push(request);
      await condition(() => rollbackOutcomes.has(request));
      const outcome = rollbackOutcomes.get(request)!;
      rollbackOutcomes.delete(request);
      awaitedRollbacks.delete(request);
      if (!outcome.ok) throw ApplicationFailure.create({ type: 'RollbackRefused', nonRetryable: true, message: outcome.message });
      return outcome.message;
    },
    {
      // Refused before the update enters history: nothing changes.
      validator: (raw) => {
        const parsed = RollbackRequest.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid rollback: ${issueLines(parsed.error).join('; ')}`);
        const target = rollbackTarget(parsed.data);
        if (!target) throw new Error(`toVersion: ${model} has no earlier champion to return to; name a version`);
        if (target === state.championVersion) throw new Error(`toVersion: v${target} is already the champion of ${model}`);
      },
    },
  );
  // Reviews sent to the lifecycle reach the retrain that waits for them.
  const forwardReview = (signal: typeof approveSignal, name: string) => async (review: Review) => {
    if (patched(CHECKED_REVIEWS_PATCH)) {
      const parsed = Review.safeParse(review);
      if (!parsed.success) return record(`ignored ${name} signal with invalid input`, ...issueLines(parsed.error));
      if (!mayReview(spec.approval, parsed.data.reviewer)) {
        return record(`refused ${name} from ${parsed.data.reviewer}: not an allowed reviewer`, `allowed reviewers: ${spec.approval.reviewers?.join(', ')}`);
      }
    }
    if (!active || active.done) return record(`ignored ${name}: no retrain is running`);
    await getExternalWorkflowHandle(active.workflowId).signal(signal, review);
  };
  setHandler(approveSignal, forwardReview(approveSignal, 'approve'));
  setHandler(rejectSignal, forwardReview(rejectSignal, 'reject'));
  // Set after every named handler (signals buffered before then reach theirs): a misspelt signal name is recorded instead of vanishing.
  setDefaultSignalHandler((name) =>
    record(`ignored unknown signal "${name}"`, 'signals: retrain, dataArrived, pause, resume, rollback, approve, reject'),
  );

  const startRetrain = async (trigger: Trigger, failures = 0) => {
    state.retrainCount += 1;
    state.policy = 'windows' in state.policy ? startCooldown(currentPolicies(), state.policy, Date.now()) : startCooldownV1(spec.policies, state.policy, Date.now());
    state.lastRetrainMs = Date.now();
    const workflowId = retrainWorkflowId(model, state.retrainCount);
    record(`retrain #${state.retrainCount} started`, trigger.reason);
    await notify({ kind: 'retrain', title: `Retrain #${state.retrainCount} of ${model} started`, text: trigger.reason, fields: { rules: trigger.rules.join(', ') } });
    upsertSearchAttributes([{ key: TriggerReasonKey, value: trigger.rules.join(',') }]);
    const handle = await startChild(retrain, {
      workflowId,
      args: [{ spec, n: state.retrainCount, trigger, championVersion: state.championVersion, championTrainedThrough: state.championTrainedThrough }],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: ModelNameKey, value: model },
        { key: TriggerReasonKey, value: trigger.rules.join(',') },
        { key: StageKey, value: 'snapshot' },
      ],
      staticSummary: `retrain #${state.retrainCount} of ${model}: ${trigger.reason}`.slice(0, 200),
      memo: { trigger: { reason: trigger.reason.slice(0, 2000), rules: trigger.rules, values: trigger.values ?? {} } },
    });
    const current = (active = { n: state.retrainCount, workflowId, trigger, failures, done: false });
    handle.result().then(
      (result) => Object.assign(current, { result, done: true }),
      // The innermost failure says what went wrong ("MLflow unreachable"), not "Child Workflow execution failed".
      (err: Error) => {
        const cancelled = err.cause instanceof CancelledFailure;
        // A cancellation's innermost failure has an empty message: never mistake it for a success.
        Object.assign(current, { error: rootCause(err) || (cancelled ? 'cancelled' : err.message) || 'failed without a message', cancelled, done: true });
      },
    );
  };

  const finishRetrain = async () => {
    const finished = active!;
    active = undefined;
    const because = `trigger: ${finished.trigger.reason}`;
    if (finished.error !== undefined) {
      record(`retrain #${finished.n}: failed`, because, `root cause: ${finished.error}`);
      if (!patched(RETRAIN_RETRY_PATCH)) return;
      // Someone cancelled it on purpose: that is not a failure to retry.
      if (finished.cancelled) return record(`retrain #${finished.n} was cancelled: not retried`);
      scheduleRetry(finished.trigger, finished.failures + 1);
      return;
    }
    const result = finished.result!;
    state.trainedThroughRecordId = Math.max(state.trainedThroughRecordId, result.trainedThroughRecordId ?? 0);
    const last = result.decisions.at(-1);
    record(`retrain #${finished.n}: ${result.outcome}`, because, ...(last ? [last.what, ...last.reasons] : []));
    if (result.outcome === 'promoted' && result.version) {
      if (state.championVersion) state.previousChampions = [state.championVersion, ...state.previousChampions].slice(0, 10);
      state.championVersion = result.version;
      state.championSinceMs = Date.now();
      state.championTrainedThrough = result.trainedThroughRecordId;
      upsertSearchAttributes([{ key: ChampionVersionKey, value: result.version }]);
      if (patched(STALE_TRIGGERS_PATCH)) dropStaleTriggers(result.version);
      await notify({ kind: 'promotion', title: `${model} v${result.version} is the new champion`, text: last ? [last.what, ...last.reasons].join('\n') : because, fields: { trigger: finished.trigger.reason } });
    }
  };

  const scheduleRetry = (trigger: Trigger, failures: number) => {
    const delay = RETRAIN_RETRY_DELAYS[failures - 1];
    if (!delay) return record(`retrain given up after ${failures} failed attempts; the next trigger starts afresh`, trigger.reason);
    state.retry = { trigger, failures, atMs: Date.now() + parseDuration(delay) };
    record(`retrain will be retried in ${delay} (attempt ${failures + 1} of ${RETRAIN_RETRY_DELAYS.length + 1})`, trigger.reason);
  };

  // Policy breaches measured the old champion; the new one must earn its own. People's and the
  // schedule's requests still stand.
  const dropStaleTriggers = (version: string) => {
    state.policy = 'windows' in state.policy ? { ...state.policy, windows: {} } : { ...state.policy, breaches: {} };
    const pending = state.pendingTrigger;
    if (!pending) return;
    const standing = pending.rules.filter((r) => ['manual', 'schedule'].includes(r));
    if (standing.length === pending.rules.length) return;
    state.pendingTrigger = standing.length ? { reason: `${pending.reason} (policy triggers dropped: new champion v${version})`, rules: standing } : undefined;
    record(`pending policy trigger dropped: v${version} is the new champion and monitoring judges it afresh`, pending.reason);
  };

  const rollbackTarget = (request: RollbackRequest) => request.toVersion ?? state.previousChampions[0];

  // A rollback that cannot happen is refused and recorded; the lifecycle carries on.
  const refuseRollback = async (request: RollbackRequest, why: string) => {
    record(`rollback refused: ${why}`, `${request.requestedBy}: ${request.reason}`);
    await notify({ kind: 'rollback', title: `rollback of ${model} refused`, text: `${why}\n${request.requestedBy}: ${request.reason}` });
    return { ok: false, message: why };
  };

  const rollback = async (request: RollbackRequest): Promise<{ ok: boolean; message: string }> => {
    const target = rollbackTarget(request);
    const checked = patched(SAFE_ROLLBACK_PATCH);
    if (!target || target === state.championVersion) {
      if (checked) return refuseRollback(request, target ? `v${target} is already the champion` : 'no earlier champion to return to');
      record('rollback ignored: no earlier champion to return to', request.reason);
      return { ok: false, message: 'no earlier champion to return to' };
    }
    const reason = `rollback by ${request.requestedBy}: ${request.reason}`;
    if (checked) {
      if (!(await registeredVersion({ model, version: target }))) return refuseRollback(request, `toVersion: ${target} is not a registered version of ${model}`);
      let deployed = false;
      try {
        await deploy({ model, champion: target, reason });
        deployed = true;
        await promoteChampion({ model, version: target, previous: state.championVersion, rolledBack: true });
      } catch (err) {
        // Nothing half-applied: the champion goes back into service alone.
        if (deployed && state.championVersion) await deploy({ model, champion: state.championVersion, reason: `rollback to v${target} failed` }).catch(() => undefined);
        return refuseRollback(request, `v${target} could not be put in service: ${rootCause(err as Error)}`);
      }
    } else {
      await deploy({ model, champion: target, reason });
      await promoteChampion({ model, version: target, previous: state.championVersion, rolledBack: true });
    }
    const message = `rolled back from v${state.championVersion} to v${target}`;
    record(message, `${request.requestedBy}: ${request.reason}`);
    await notify({ kind: 'rollback', title: `${model} rolled back from v${state.championVersion} to v${target}`, text: `${request.requestedBy}: ${request.reason}` });
    state.previousChampions = state.previousChampions.filter((v) => v !== target);
    state.championVersion = target;
    state.championSinceMs = Date.now();
    state.championTrainedThrough = undefined;
    upsertSearchAttributes([{ key: ChampionVersionKey, value: target }]);
    return { ok: true, message };
  };

  // One monitoring cycle: the monitor activity summarises the log since the last cycle, the
  // policies judge the summary here, in workflow code, and a firing rule requests a retrain.
  const monitor = async (championVersion: string) => {
    const result: MonitorResult = await monitorChampion({
      spec,
      policies: currentPolicies(),
      championVersion,
      cursors: state.monitor,
      feedbackCursor: state.feedbackCursor,
      trainedThroughRecordId: state.trainedThroughRecordId,
      at: new Date().toISOString(),
    });
    state.monitor = result.cursors;
    state.feedbackCursor = result.cursors.feedback;
    state.lastSummary = result.summary;
    const policyState = 'windows' in state.policy ? state.policy : { ...initialPolicyState(), cooldownUntil: state.policy.cooldownUntil };
    const verdict = evaluatePolicies(currentPolicies(), result.summary, policyState, { nowMs: Date.now(), championSinceMs: state.championSinceMs, lastRetrainMs: state.lastRetrainMs });
    state.policy = verdict.state;
    state.policyNotes = verdict.notes;
    // Drift and input anomalies are worth a person's attention whether or not a policy fires.
    for (const alert of findingAlerts(model, result.summary)) await notify(alert);
    if (verdict.fire) requestRetrain(triggerOf(verdict.fired));
  };

  // Lifecycles recorded before policy-rules-v2 replay their cycles through this path.
  const monitorV1 = async (championVersion: string) => {
    const summary = await summarizeProduction({
      spec,
      championVersion,
      feedbackCursor: state.feedbackCursor,
      trainedThroughRecordId: state.trainedThroughRecordId,
    });
    state.lastSummary = summary;
    state.feedbackCursor = summary.feedbackCursor;
    const verdict = evaluatePoliciesV1(spec.policies, summary, state.policy as PolicyStateV1, Date.now());
    state.policy = verdict.state;
    if (verdict.notes.length) log.info('policy notes', { notes: verdict.notes });
    if (verdict.fire) requestRetrain({ reason: verdict.reasons.join('; '), rules: verdict.rules });
  };

  upsertSearchAttributes([{ key: ModelNameKey, value: model }]);
  if (!carried) {
    // A lifecycle restarted for an existing model picks up the registered champion.
    state.championVersion = (await currentChampion({ model })) ?? undefined;
    if (state.championVersion) upsertSearchAttributes([{ key: ChampionVersionKey, value: state.championVersion }]);
    record('lifecycle started', state.championVersion ? `champion is v${state.championVersion}` : 'no champion yet: initial training');
    if (!state.championVersion) requestRetrain({ reason: 'initial training: the model has no champion yet', rules: ['initial'] });
  }

  // Pausing stops policy-triggered retrains; a person asking for one still gets it.
  const mayStart = (trigger: Trigger) => !state.paused || trigger.rules.some((r) => r === 'manual' || r === 'initial');
  const retryDue = () => !active && state.retry !== undefined && Date.now() >= state.retry.atMs && mayStart(state.retry.trigger);
  const canStartRetrain = () => !active && state.pendingTrigger !== undefined && mayStart(state.pendingTrigger);

  const interval = parseDuration(spec.monitoring.interval);
  for (;;) {
    // A retry falls due on its own timer; lifecycles without one wait exactly as they always did.
    const wait = state.retry ? Math.max(1, Math.min(interval, state.retry.atMs - Date.now())) : interval;
    const timedOut = !(await condition(() => wakeUp || state.rollbacks.length > 0 || active?.done === true || canStartRetrain() || retryDue(), wait));
    const monitorNow = timedOut || wakeUp;
    wakeUp = false;

    if (active?.done) await finishRetrain();
    while (state.rollbacks.length > 0) {
      const request = state.rollbacks.shift()!;
      const outcome = await rollback(request);
      if (awaitedRollbacks.has(request)) rollbackOutcomes.set(request, outcome);
    }

    if (monitorNow && !state.paused && state.championVersion) {
      cycleRunning = true;
      try {
        if (patched(POLICY_RULES_PATCH)) await monitor(state.championVersion);
        else await monitorV1(state.championVersion);
      } catch (err) {
        // A months-long lifecycle outlives an MLflow outage: this cycle is skipped, the next one
        // reads from the same cursors.
        const cause = (err as Error).cause as Error | undefined;
        record('monitoring cycle failed; retrying at the next interval', cause?.message ?? (err as Error).message);
      } finally {
        cycleRunning = false;
      }
    }

    if (retryDue()) {
      const { trigger, failures } = state.retry!;
      state.retry = undefined;
      await startRetrain(trigger, failures);
    } else if (canStartRetrain()) {
      const trigger = state.pendingTrigger!;
      state.pendingTrigger = undefined;
      await startRetrain(trigger);
    }

    // Only between retrains: a running child would lose its parent's attention otherwise.
    if (workflowInfo().continueAsNewSuggested && !active) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof modelLifecycle>({ spec, state });
    }
  }
}

/** Per rule, how many breaches count toward firing now (the status query's view of either policy state). */
function breachCounts(policy: PolicyState | PolicyStateV1): Record<string, number> {
  if (!('windows' in policy)) return policy.breaches;
  return Object.fromEntries(Object.entries(policy.windows).map(([rule, window]) => [rule, window.filter(Boolean).length]));
}

function triggerOf(fired: FiredRule[]): Trigger {
  return {
    reason: fired.map((f) => f.reason).join('; '),
    rules: fired.map((f) => f.rule),
    values: Object.fromEntries(fired.map((f) => [f.rule, f.values])),
  };
}
