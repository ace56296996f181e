/**
 * Every patch of the workflows, and where it stands in Temporal's sequence:
 * `patched(id)` (old and new code side by side) -> `deprecatePatch(id)` (new code only, once no
 * history that took the old code can still be running) -> no call at all (once every running
 * history was recorded by workers that call `deprecatePatch`).
 *
 * SUPPORT RULE: histories recorded by the code of the v3 fixture set (2026-11-22) and later
 * replay; code paths that only histories recorded before v3 took are retired. So this code must
 * not run while a workflow run started by pre-v3 code is still open (a lifecycle run that has
 * since continued-as-new is a new run, started by newer code, and is fine; carried v1 state is
 * converted in core/legacy/carried-state.ts). test/replay/replay.test.ts holds the fixtures
 * that prove the rule; the retired ones are named in its header.
 *
 * The v5 fixture set was recorded by this code: its histories carry the deprecated markers, and
 * replay proves that code which calls `deprecatePatch` reads them. The v3 and v4 histories still
 * carry plain `patched` markers, so no patch can be removed outright yet: removing the deprecated
 * ones is the next step, once no run recorded before v5 can be open (then the v3 and v4
 * fixtures retire in turn).
 */

// ---- deprecated: the new code only (every fixture from v3 on carries the marker) ----------

/** Lifecycles before this patch kept policy triggers across a promotion. */
export const STALE_TRIGGERS_PATCH = 'drop-stale-triggers-on-promotion';
/** Before this patch, monitoring was summarizeProduction judged by the v1 policies. */
export const POLICY_RULES_PATCH = 'policy-rules-v2';
/** Retrains before this patch trained the spec's fixed candidates instead of running a sweep. */
export const AUTOML_SWEEP_PATCH = 'automl-sweep';
/** Histories before alerts existed never call sendAlert (their specs had no alerts either). */
export const ALERTS_PATCH = 'alerts';

// ---- patched: old and new code, because v3-era histories took the old code ----------------

/** Before this patch, a rollback to an unknown or unloadable version failed the lifecycle (legacy/unchecked-rollback.ts). */
export const SAFE_ROLLBACK_PATCH = 'refuse-bad-rollbacks';
/** Before this patch, the lifecycle forwarded every review to the retrain unchecked. */
export const CHECKED_REVIEWS_PATCH = 'check-forwarded-reviews';
/** Before this patch, a failed retrain was recorded and not retried. */
export const RETRAIN_RETRY_PATCH = 'retry-failed-retrains';
/**
 * Retrains before this patch had no shadow phase. Specs recorded then have no `shadow`, so their
 * histories never reach the call; it guards a retrain whose spec asks for a shadow but which an
 * older worker ran (a rolling upgrade): replayed, it goes on to the canary as it did.
 */
export const SHADOW_PHASE_PATCH = 'shadow-phase';
/**
 * Retrains before this patch had no evaluation gates. Specs recorded then name no gate, so their
 * histories never reach the call; it guards a retrain whose spec names gates but which an older
 * worker ran (a rolling upgrade): replayed, it goes on to registration as it did.
 */
export const EVALUATION_GATES_PATCH = 'evaluation-gates';
/**
 * A regression canary's sequential test before this patch mixed over effects of 0.1 x the
 * champion's MSE by default, too narrow to stop a grossly worse canary within a few dozen labels
 * (bench/strategies: regressionMixingSensitivity); it is 0.5 now (core/live-test.ts). A test that
 * began under 0.1 keeps it, so its looks decide on replay as they did.
 */
export const REGRESSION_EFFECT_SCALE_PATCH = 'regression-effect-scale';
export const PRE_PATCH_REGRESSION_EFFECT_SCALE = 0.1;
/** Sweeps before this patch broke ties by measured latency (core/sweep-plan.ts TieBreak); the v3 sweeps replay through it. */
export const DETERMINISTIC_TIES_PATCH = 'deterministic-tie-break';
/**
 * Before this patch, a lifecycle upserted ModelName at every run's start and ChampionVersion and
 * TriggerReason where they changed, one event each. With it, the lifecycle sends what changed of
 * its fleet view (Stage, ChampionVersion, TriggerReason, LastVerdict, StatusChangedAt) in one
 * upsert before it waits (lifecycle/fleet-view.ts); the v9 fixture carries the marker.
 */
export const FLEET_VIEW_PATCH = 'fleet-view-attributes';
/**
 * Before this patch, every monitoring cycle ran the monitorChampion activity (about 11 history
 * events and 60 ms of worker CPU), traffic or not. With it, a local activity first reads where
 * the log stands, and a cycle with nothing new judges the policies on a quiet summary
 * (core/lifecycle/quiet-cycle.ts) without the activity. Histories recorded before it scheduled
 * monitorChampion every cycle, and replay so; the v10 fixtures carry the marker.
 */
export const QUIET_CYCLES_PATCH = 'quiet-monitoring-cycles';
/**
 * Before this patch, a lifecycle waited a full interval after each wake-up, so models registered
 * together fired together. With it, each model's cycles fall on its own phase of the interval
 * (core/lifecycle/stagger.ts); histories recorded before it started timers of the full interval.
 */
export const STAGGERED_CYCLES_PATCH = 'staggered-monitoring-cycles';
/**
 * Before this patch, a lifecycle with nothing to monitor (no champion yet, or paused) still ran a
 * timer every interval, two workflow tasks for nothing each time; with it, it waits for work
 * without a timer. Histories recorded before it replay their timers.
 */
export const IDLE_WITHOUT_TIMER_PATCH = 'idle-without-timer';
/**
 * Before this patch, a sweep trained at once. With it, it first asks the namespace's training
 * permits workflow (workflows/training-permit.ts) and, when a limit is set, waits for a permit;
 * histories recorded before it replay straight into their first activity. The v11 fixtures carry
 * the marker.
 */
export const TRAINING_PERMITS_PATCH = 'training-permits';
/**
 * Before this patch, a pause was only recorded: a waiting lifecycle published its stage
 * (`paused`, for `perennial list` and `pause --where`) at its next cycle, or, idle, never until
 * something else woke it. With it, a pause wakes the loop once so the stage shows at once;
 * histories recorded before it replay their pauses without that wake-up. The v12 fixtures carry
 * the marker.
 */
export const PAUSE_PUBLISHES_PATCH = 'pause-publishes-stage';
/**
 * Before this patch, a sweep learned from its own trials only. With it, a sweep whose spec has
 * `training.sweep.history` first reads earlier sweeps' trials (readSweepHistory) to seed TPE
 * and may start from the champion's configuration. No recorded spec has `history`, so no
 * recorded history reaches the marker; it guards a sweep that an older worker began.
 */
export const SWEEP_HISTORY_PATCH = 'sweep-history';
