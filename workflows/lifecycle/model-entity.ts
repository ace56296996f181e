/**
 * The lifecycle of one model as an entity: its carried state, what is happening right now (the
 * running retrain, a monitoring cycle, rollbacks an update waits for) and the steps the main
 * loop of workflows/lifecycle.ts takes. Handlers record, queue and wake the loop (the rollback
 * update then waits for the loop's answer); the loop does the work one step at a time, so a
 * message never lands in a step that is half done. Decisions that need no Temporal API live in
 * core/lifecycle/state.ts; a cycle, a rollback and a retrain start have their own files here.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  condition,
  deprecatePatch,
  log,
  patched,
  proxyActivities,
  rootCause,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { ChampionVersionKey, type LifecycleStatus, ModelNameKey, type RollbackRequest, type SpecChange } from '../../core/messages.ts';
import { retrainingChanges, specChangeRefusal, specDiff } from '../../core/spec-change.ts';
import { compileRules, startCooldown, type PolicySpec } from '../../core/policy.ts';
import type { ModelSpec } from '../../core/spec.ts';
import { parseDuration } from '../../core/duration.ts';
import { untilNextCycle } from '../../core/lifecycle/stagger.ts';
import {
  coalesce,
  HISTORY_LIMIT,
  initialLifecycleState,
  lifecycleStatus,
  type LifecycleState,
  mayStart,
  RETRAIN_RETRY_DELAYS,
  requestedTrigger,
  retryAfter,
  rollbackTarget,
  type Trigger,
  withoutStaleTriggers,
} from '../../core/lifecycle/state.ts';
import { type CarriedLifecycleState, fromCarriedState } from '../../core/legacy/carried-state.ts';
import { CYCLE_FAILED, type FleetView, lifecycleStage } from '../../core/lifecycle/fleet-view.ts';
import { afterOnlineStep, isOnlineMode, isOnlineUpdate } from '../../core/online.ts';
import { SHORT_CALL } from '../activity-options.ts';
import { createNotifier } from '../alerts.ts';
import {
  IDLE_WITHOUT_TIMER_PATCH,
  PAUSE_PUBLISHES_PATCH,
  POLICY_RULES_PATCH,
  RETRAIN_RETRY_PATCH,
  STAGGERED_CYCLES_PATCH,
  STALE_TRIGGERS_PATCH,
} from '../legacy/patches.ts';
import type { RetrainResult } from '../retrain.ts';
import { legacyUpserts, publishFleetView } from './fleet-view.ts';
import { startRetrainChild } from './retrain-child.ts';
import { applyRollback } from './rollback.ts';
import { monitorOnce } from './monitor.ts';

const { currentChampion, registeredVersion, checkSpec } = proxyActivities<Activities>(SHORT_CALL);

/** The retrain child that runs now; `done` once its result (or failure) is in. */
interface ActiveRetrain {
  n: number;
  workflowId: string;
  trigger: Trigger;
  failures: number;
  result?: RetrainResult;
  error?: string;
  cancelled?: boolean;
  done: boolean;
}

export interface RollbackOutcome {
  ok: boolean;
  message: string;
}

export class ModelEntity {
  readonly model: string;
  readonly state: LifecycleState;
  notify: ReturnType<typeof createNotifier>;
  /** Set by handlers that want a monitoring cycle now instead of at the next interval. */
  wakeUp = false;
  /** The last monitoring cycle's verdict (core/lifecycle/fleet-view.ts), once this run had one. */
  lastVerdict?: string;
  private active?: ActiveRetrain;
  // Pausing does not cancel a cycle already reading the log: it finishes and records its summary.
  private cycleRunning = false;
  // Rollbacks an update waits for, and what became of them (the request object is the key).
  private readonly awaitedRollbacks = new Set<RollbackRequest>();
  private readonly rollbackOutcomes = new Map<RollbackRequest, RollbackOutcome>();

  constructor(
    /** Replaced by a spec update (updateSpec); read it afresh, never keep a copy. */
    public spec: ModelSpec,
    private readonly carried?: CarriedLifecycleState,
  ) {
    this.model = spec.name;
    // Carried state is converted once, here: everything after sees today's types only.
    this.state = carried ? fromCarriedState(carried) : initialLifecycleState();
    this.notify = createNotifier(spec);
  }

  record(what: string, ...reasons: string[]): void {
    const { history } = this.state;
    history.push({ at: new Date().toISOString(), what, reasons });
    history.splice(0, Math.max(0, history.length - HISTORY_LIMIT));
    log.info(what, { model: this.model, reasons });
    setCurrentDetails(
      `**${this.model}** champion: ${this.state.championVersion ? `v${this.state.championVersion}` : 'none'}\n\nlast: ${what}`,
    );
  }

  policies(): PolicySpec {
    return this.state.policies ?? this.spec.policies;
  }

  status(): LifecycleStatus {
    const running = this.retrainRunning();
    const activeRetrain = running ? { workflowId: running.workflowId, trigger: running.trigger.reason } : undefined;
    return lifecycleStatus(this.model, this.state, this.policies(), { monitoringNow: this.cycleRunning, activeRetrain });
  }

  /** A retrain runs, waits to start or waits for its retry: what it will read is spoken for. */
  retrainBusy(): boolean {
    return this.active !== undefined || this.state.pendingTrigger !== undefined || this.state.retry !== undefined;
  }

  /** The retrain child still running, if any (one that finished waits for the loop to be recorded). */
  retrainRunning(): ActiveRetrain | undefined {
    return this.active && !this.active.done ? this.active : undefined;
  }

  // ---- what handlers do ------------------------------------------------------------------

  /** A trigger while a retrain runs does not start a second one: it becomes one follow-up. */
  requestRetrain(trigger: Trigger): void {
    this.state.pendingTrigger = coalesce(this.state.pendingTrigger, trigger);
    if (this.retrainRunning()) this.record('retrain requested while one runs: coalesced into a follow-up', trigger.reason);
  }

  setPolicies(policies: PolicySpec, changedBy: string, reason: string): string {
    const rules = (p: PolicySpec) =>
      compileRules(p)
        .map((r) => r.name)
        .join(', ') || 'none';
    this.record(
      `policies changed by ${changedBy}`,
      reason,
      `rules before: ${rules(this.policies())}`,
      `rules now: ${rules(policies)}`,
      JSON.stringify(policies),
    );
    this.state.policies = policies;
    // Evidence gathered under the old rules does not count toward the new ones.
    this.state.policy = { windows: {}, cooldownUntil: this.state.policy.cooldownUntil };
    this.wakeUp = true;
    return `policies updated: ${rules(policies)}`;
  }

  /**
   * The spec update: the worker validates the new spec (the bundle has no spec schemas); one that
   * is invalid, or for another model or task queue, fails the update and changes nothing. A change
   * to what training uses asks for a retrain; new policies replace any set by setPolicies.
   */
  async updateSpec(change: SpecChange): Promise<string> {
    const checked = await checkSpec({ spec: change.spec });
    if (!checked.ok)
      throw ApplicationFailure.create({ type: 'InvalidSpec', nonRetryable: true, message: `invalid spec:\n${checked.problems}` });
    const refusal = specChangeRefusal(this.spec, checked.spec);
    if (refusal) throw ApplicationFailure.create({ type: 'SpecChangeRefused', nonRetryable: true, message: refusal });
    const diff = specDiff(this.spec, checked.spec);
    if (diff.length === 0) return `spec of ${this.model} unchanged`;
    this.record(`spec changed by ${change.changedBy}`, ...diff);
    this.spec = checked.spec;
    this.notify = createNotifier(checked.spec);
    if (diff.some((line) => line.startsWith('policies'))) {
      this.state.policies = undefined;
      this.state.policy = { windows: {}, cooldownUntil: this.state.policy.cooldownUntil };
    }
    const retraining = retrainingChanges(diff);
    if (retraining.length) this.requestRetrain(requestedTrigger(change.changedBy, `spec changed: ${retraining.join('; ')}`));
    this.wakeUp = true;
    return `spec of ${this.model} updated (${diff.length} change${diff.length === 1 ? '' : 's'}${retraining.length ? ', retrain requested' : ''}):\n${diff.map((l) => `  ${l}`).join('\n')}`;
  }

  setPaused(paused: boolean): void {
    this.state.paused = paused;
    if (paused) {
      this.record('paused: no monitoring or policy-triggered retrains until resumed');
      // Once round the loop, which monitors nothing while paused, to publish the stage.
      if (patched(PAUSE_PUBLISHES_PATCH)) this.wakeUp = true;
    } else {
      this.record('resumed');
      this.wakeUp = true;
    }
  }

  /** The rollback update: the version must be registered; the caller learns what became of it. */
  async rollbackAndWait(request: RollbackRequest): Promise<string> {
    const target = rollbackTarget(this.state, request)!;
    if (!(await registeredVersion({ model: this.model, version: target }))) {
      throw ApplicationFailure.create({
        type: 'UnknownVersion',
        nonRetryable: true,
        message: `toVersion: ${target} is not a registered version of ${this.model}`,
      });
    }
    this.awaitedRollbacks.add(request);
    this.state.rollbacks.push(request);
    await condition(() => this.rollbackOutcomes.has(request));
    const outcome = this.rollbackOutcomes.get(request)!;
    this.rollbackOutcomes.delete(request);
    this.awaitedRollbacks.delete(request);
    if (!outcome.ok) throw ApplicationFailure.create({ type: 'RollbackRefused', nonRetryable: true, message: outcome.message });
    return outcome.message;
  }

  // ---- the main loop's steps ---------------------------------------------------------------

  /** A fresh lifecycle (not one continued-as-new) picks up the registered champion, or trains one. */
  async start(): Promise<void> {
    if (legacyUpserts()) upsertSearchAttributes([{ key: ModelNameKey, value: this.model }]);
    if (this.carried) return;
    const champion = (this.state.championVersion = (await currentChampion({ model: this.model })) ?? undefined);
    if (champion && legacyUpserts()) upsertSearchAttributes([{ key: ChampionVersionKey, value: champion }]);
    this.record('lifecycle started', champion ? `champion is v${champion}` : 'no champion yet: initial training');
    if (!champion) this.requestRetrain({ reason: 'initial training: the model has no champion yet', rules: ['initial'] });
  }

  /**
   * Shows the fleet what changed, once the loop is about to wait: a step that follows at once
   * (the initial retrain, a rollback) would change it again, and each change is a history event.
   */
  publish(): void {
    if (this.workDue()) return;
    publishFleetView(this.model, this.fleetView());
  }

  fleetView(): FleetView {
    return {
      stage: lifecycleStage(this.state, this.retrainRunning() !== undefined),
      champion: this.state.championVersion,
      lastTrigger: this.retrainRunning()?.trigger.rules.join(','),
      lastVerdict: this.lastVerdict,
    };
  }

  /** Waits for something to do or the monitoring interval; true when a monitoring cycle is due. */
  async nextWork(): Promise<boolean> {
    const interval = parseDuration(this.spec.monitoring.interval);
    const { retry } = this.state;
    // Nothing to monitor (no champion yet, or paused): a timer would only wake the loop to do
    // nothing. Whatever ends the wait (a promotion, a resume, a rollback, a trigger) makes work due.
    if (!retry && this.nothingToMonitor() && patched(IDLE_WITHOUT_TIMER_PATCH)) {
      await condition(() => this.workDue());
      return this.takeWakeUp();
    }
    const cycle = patched(STAGGERED_CYCLES_PATCH) ? untilNextCycle(this.model, interval, Date.now()) : interval;
    // A retry falls due on its own timer.
    const wait = retry ? Math.max(1, Math.min(cycle, retry.atMs - Date.now())) : cycle;
    const woken = await condition(() => this.workDue(), wait);
    return this.takeWakeUp() || !woken;
  }

  private nothingToMonitor(): boolean {
    return this.state.paused || !this.state.championVersion;
  }

  /** Whether a handler asked for a cycle now; the request is used up. */
  private takeWakeUp(): boolean {
    const asked = this.wakeUp;
    this.wakeUp = false;
    return asked;
  }

  async finishRetrainIfDone(): Promise<void> {
    if (!this.active?.done) return;
    const finished = this.active;
    this.active = undefined;
    const because = `trigger: ${finished.trigger.reason}`;
    if (finished.error !== undefined) {
      this.record(`retrain #${finished.n}: failed`, because, `root cause: ${finished.error}`);
      // An update is not retried: the next batch makes the next one, and failures count toward a
      // full retrain as rejections do (a champion that cannot be continued gets one that way).
      if (isOnlineUpdate(finished.trigger)) {
        this.state.online = afterOnlineStep(this.state.online, finished.trigger, 'failed');
        return this.record(`online update #${finished.n} is not retried: the next batch of labels makes the next one`);
      }
      if (!patched(RETRAIN_RETRY_PATCH)) return;
      // Someone cancelled it on purpose: that is not a failure to retry.
      if (finished.cancelled) return this.record(`retrain #${finished.n} was cancelled: not retried`);
      return this.scheduleRetry(finished.trigger, finished.failures + 1);
    }
    const result = finished.result!;
    const { state } = this;
    state.trainedThroughRecordId = Math.max(state.trainedThroughRecordId, result.trainedThroughRecordId ?? 0);
    const last = result.decisions.at(-1);
    this.record(`retrain #${finished.n}: ${result.outcome}`, because, ...(last ? [last.what, ...last.reasons] : []));
    if (isOnlineMode(this.spec)) state.online = afterOnlineStep(state.online, finished.trigger, result.outcome);
    if (result.outcome !== 'promoted' || !result.version) return;
    if (state.championVersion) state.previousChampions = [state.championVersion, ...state.previousChampions].slice(0, 10);
    state.championVersion = result.version;
    state.championSinceMs = Date.now();
    state.championTrainedThrough = result.trainedThroughRecordId;
    if (legacyUpserts()) upsertSearchAttributes([{ key: ChampionVersionKey, value: result.version }]);
    deprecatePatch(STALE_TRIGGERS_PATCH);
    // An online update continues its champion: the breaches measured on it still count toward a
    // full retrain, which is how the policies overrule updates that do not keep up.
    if (!isOnlineUpdate(finished.trigger)) this.dropStaleTriggers(result.version);
    await this.notify({
      kind: 'promotion',
      title: `${this.model} v${result.version} is the new champion`,
      text: last ? [last.what, ...last.reasons].join('\n') : because,
      fields: { trigger: finished.trigger.reason },
    });
  }

  /** Rollbacks run one at a time, in the order they arrived; an awaiting update gets the outcome. */
  async applyRollbacks(): Promise<void> {
    while (this.state.rollbacks.length > 0) {
      const request = this.state.rollbacks.shift()!;
      const outcome = await applyRollback(this, request);
      if (this.awaitedRollbacks.has(request)) this.rollbackOutcomes.set(request, outcome);
    }
  }

  /** One monitoring cycle, unless paused or there is no champion to watch. */
  async monitorCycle(): Promise<void> {
    const champion = this.state.championVersion;
    if (this.state.paused || !champion) return;
    this.cycleRunning = true;
    try {
      deprecatePatch(POLICY_RULES_PATCH);
      await monitorOnce(this, champion);
    } catch (err) {
      // A months-long lifecycle outlives an MLflow outage: this cycle is skipped, the next one
      // reads from the same cursors.
      const cause = (err as Error).cause as Error | undefined;
      this.lastVerdict = CYCLE_FAILED;
      this.record('monitoring cycle failed; retrying at the next interval', cause?.message ?? (err as Error).message);
    } finally {
      this.cycleRunning = false;
    }
  }

  /** Starts a due retry, or else the pending trigger, when no retrain runs. */
  async startDueRetrain(): Promise<void> {
    if (this.retryDue()) {
      const { trigger, failures } = this.state.retry!;
      this.state.retry = undefined;
      await this.startRetrain(trigger, failures);
    } else if (this.canStartRetrain()) {
      const trigger = this.state.pendingTrigger!;
      this.state.pendingTrigger = undefined;
      await this.startRetrain(trigger);
    }
  }

  /** Only between retrains: a running child would lose its parent's attention otherwise. */
  shouldContinueAsNew(): boolean {
    return workflowInfo().continueAsNewSuggested && !this.active;
  }

  // ---- inside the steps ----------------------------------------------------------------------

  private workDue(): boolean {
    return this.wakeUp || this.state.rollbacks.length > 0 || this.active?.done === true || this.canStartRetrain() || this.retryDue();
  }

  private retryDue(): boolean {
    const { retry, paused } = this.state;
    return !this.active && retry !== undefined && Date.now() >= retry.atMs && mayStart(retry.trigger, paused);
  }

  private canStartRetrain(): boolean {
    const { pendingTrigger, paused } = this.state;
    return !this.active && pendingTrigger !== undefined && mayStart(pendingTrigger, paused);
  }

  private async startRetrain(trigger: Trigger, failures = 0): Promise<void> {
    const { state } = this;
    state.retrainCount += 1;
    // An online update is no retrain for the policies: neither a cooldown nor the age of the last retrain.
    if (!isOnlineUpdate(trigger)) {
      state.policy = startCooldown(this.policies(), state.policy, Date.now());
      state.lastRetrainMs = Date.now();
    }
    const n = state.retrainCount;
    const { workflowId, result } = await startRetrainChild(this, n, trigger);
    const current: ActiveRetrain = (this.active = { n, workflowId, trigger, failures, done: false });
    result.then(
      (value) => Object.assign(current, { result: value, done: true }),
      // The innermost failure says what went wrong ("MLflow unreachable"), not "Child Workflow execution failed".
      (err: Error) => {
        const cancelled = err.cause instanceof CancelledFailure;
        // A cancellation's innermost failure has an empty message: never mistake it for a success.
        Object.assign(current, {
          error: rootCause(err) || (cancelled ? 'cancelled' : err.message) || 'failed without a message',
          cancelled,
          done: true,
        });
      },
    );
  }

  private scheduleRetry(trigger: Trigger, failures: number): void {
    const retry = retryAfter(failures, Date.now());
    if (!retry) return this.record(`retrain given up after ${failures} failed attempts; the next trigger starts afresh`, trigger.reason);
    this.state.retry = { trigger, failures, atMs: retry.atMs };
    this.record(
      `retrain will be retried in ${retry.delay} (attempt ${failures + 1} of ${RETRAIN_RETRY_DELAYS.length + 1})`,
      trigger.reason,
    );
  }

  // Policy breaches measured the old champion; the new one must earn its own. People's and the
  // schedule's requests still stand.
  private dropStaleTriggers(version: string): void {
    this.state.policy = { ...this.state.policy, windows: {} };
    const before = this.state.pendingTrigger;
    const { pending, dropped } = withoutStaleTriggers(before, version);
    if (!dropped) return;
    this.state.pendingTrigger = pending;
    this.record(`pending policy trigger dropped: v${version} is the new champion and monitoring judges it afresh`, before!.reason);
  }
}
