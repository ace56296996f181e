/**
 * What the canary and the A/B test share: the settings of their sequential test, one look at the
 * live labels, the verdict recorded in MLflow, and the rollback that puts the champion back alone.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { RetrainRun } from '../core/contracts.ts';
import {
  describeLook,
  INITIAL_STATE,
  lookAtLive,
  lookMetrics,
  type LiveTestSettings,
  type LiveTestStatus,
  type SequentialResult,
} from '../core/live-test.ts';
import type { Score } from '../core/promotion.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression } from '../core/spec-reading.ts';
import { SHORT_CALL } from './activity-options.ts';
import { PRE_PATCH_REGRESSION_EFFECT_SCALE, REGRESSION_EFFECT_SCALE_PATCH } from './legacy/patches.ts';
import type { RetrainProgress } from './retrain.ts';

const { deploy, compareCanary, tagVersion, recordLiveTest } = proxyActivities<Activities>(SHORT_CALL);

export interface LiveTestContext {
  championVersion: string;
  challengerVersion: string;
  retrainRun: RetrainRun;
  /** The champion's score on the offline holdout: a regression test's scale is its MSE. */
  championHoldout?: Score;
}

export function liveSettings(spec: ModelSpec, tolerance: number, minSamples: number, ctx: LiveTestContext): LiveTestSettings {
  const rmse = ctx.championHoldout?.rmse;
  const regression = isRegression(spec.label);
  const legacyScale = regression && spec.deployment.effectScale === undefined && !patched(REGRESSION_EFFECT_SCALE_PATCH);
  return {
    alpha: spec.deployment.alpha,
    tolerance,
    effectScale: legacyScale ? PRE_PATCH_REGRESSION_EFFECT_SCALE : spec.deployment.effectScale,
    minSamples,
    // A regression champion always has a holdout RMSE; NaN (none) leaves the test undecided, never wrong.
    championHoldoutMse: regression ? (typeof rmse === 'number' ? rmse * rmse : NaN) : undefined,
  };
}

/** Reads the live labels since the test began and takes one look; the status query shows it. */
export async function lookAgain(
  progress: RetrainProgress,
  test: LiveTestStatus['test'],
  since: string,
  settings: LiveTestSettings,
  ctx: LiveTestContext,
  previous: SequentialResult | undefined,
): Promise<SequentialResult> {
  const live = await compareCanary({
    model: progress.spec.name,
    since,
    championVersion: ctx.championVersion,
    canaryVersion: ctx.challengerVersion,
    regression: isRegression(progress.spec.label),
  });
  const result = lookAtLive(previous?.state ?? INITIAL_STATE, { champion: live.champion, challenger: live.canary }, settings);
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  progress.live = {
    test,
    decision: result.decision,
    effect: finite(result.effect),
    lower: result.lower,
    upper: result.upper,
    pValue: result.pValue,
    eValue: finite(result.eValue),
    samples: result.samples,
    looks: result.state.looks,
    line: describeLook(result, settings),
  };
  return result;
}

/** The verdict's numbers as metrics of the retrain run, and the whole of it as `<test>.json`. */
export async function recordVerdict(
  progress: RetrainProgress,
  test: LiveTestStatus['test'],
  ctx: LiveTestContext,
  result: SequentialResult,
  settings: LiveTestSettings,
): Promise<void> {
  await recordLiveTest({
    retrainRun: ctx.retrainRun,
    name: test,
    metrics: lookMetrics(test === 'canary' ? 'canary' : 'ab', result),
    look: result.state.looks,
    at: Date.now(),
    result: { ...progress.live, settings, championVersion: ctx.championVersion, challengerVersion: ctx.challengerVersion },
  });
}

/** The champion alone serves again; the challenger's version says why, and the alert channels hear of it. */
export async function rollBack(progress: RetrainProgress, ctx: LiveTestContext, line: string, what = 'canary'): Promise<void> {
  const model = progress.spec.name;
  await deploy({ model, champion: ctx.championVersion, reason: `rollback of ${what} v${ctx.challengerVersion}` });
  await tagVersion({ model, version: ctx.challengerVersion, tags: { 'perennial.outcome': 'rolled-back' } });
  await progress.notify({
    kind: 'rollback',
    title: `${model} ${what} v${ctx.challengerVersion} rolled back`,
    text: line,
    fields: { champion: ctx.championVersion },
  });
}
