/**
 * The retrain's canary: a share of live traffic for the challenger, stepped up per the spec,
 * judged on live labelled outcomes.
 * - verdict 'sequential' (specs from now on): an always-valid test (core/live-test.ts) looks every
 *   `checkEvery`; it rolls back as soon as the canary is worse with confidence 1 - alpha, promotes
 *   as soon as it is at worst `tolerance` worse, and otherwise keeps baking, the last step up to
 *   `maxBake`; undecided at the end, `onInconclusive` decides.
 * - verdict 'tolerance' (specs recorded before it, which have no `verdict`): at the end of each
 *   step, rolled back when the live score is more than `tolerance` below the champion's.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { parseDuration } from '../core/duration.ts';
import type { SequentialResult } from '../core/live-test.ts';
import { canaryIsWorse, type Score } from '../core/promotion.ts';
import { isRegression } from '../core/spec-reading.ts';
import { SHORT_CALL } from './activity-options.ts';
import { liveSettings, lookAgain, recordVerdict, rollBack, type LiveTestContext } from './live-test.ts';
import type { RetrainProgress } from './retrain.ts';

const { deploy, compareCanary } = proxyActivities<Activities>(SHORT_CALL);

export async function runCanary(progress: RetrainProgress, ctx: LiveTestContext): Promise<'holds-up' | 'rolled-back'> {
  return progress.spec.canary.verdict === 'sequential' ? runSequentialCanary(progress, ctx) : runToleranceCanary(progress, ctx);
}

async function runSequentialCanary(progress: RetrainProgress, ctx: LiveTestContext): Promise<'holds-up' | 'rolled-back'> {
  const { spec, decide } = progress;
  const { canary } = spec;
  const settings = liveSettings(spec, canary.tolerance, canary.minSamples, ctx);
  progress.enterStage('canary');
  // One test over the whole canary: both models are measured side by side at every weight.
  const since = new Date().toISOString();
  let result: SequentialResult | undefined;
  let line = '';
  for (const [i, step] of canary.steps.entries()) {
    await deploy({
      model: spec.name,
      champion: ctx.championVersion,
      canary: { version: ctx.challengerVersion, weight: step.weight },
      reason: `canary ${step.weight * 100}%`,
    });
    const bake = parseDuration(step.bake);
    const last = i === canary.steps.length - 1;
    const longest = last && canary.maxBake ? Math.max(bake, parseDuration(canary.maxBake)) : bake;
    const every = canary.checkEvery ? parseDuration(canary.checkEvery) : bake;
    const stepStart = Date.now();
    for (let elapsed = 0; elapsed < longest; elapsed = Date.now() - stepStart) {
      await sleep(Math.min(every, (elapsed < bake ? bake : longest) - elapsed));
      result = await lookAgain(progress, 'canary', since, settings, ctx, result);
      if (result.decision !== 'continue') break;
      if (!last && Date.now() - stepStart >= bake) break;
    }
    line = `${progress.live!.line} at ${step.weight * 100}% traffic`;
    if (result?.decision === 'worse') {
      decide('canary is worse than the champion: rolling back', line);
      await recordVerdict(progress, 'canary', ctx, result, settings);
      await rollBack(progress, ctx, line);
      return 'rolled-back';
    }
    if (result?.decision === 'not-worse') {
      decide(`canary is not worse than the champion (within ${canary.tolerance}): promoting`, line);
      await recordVerdict(progress, 'canary', ctx, result, settings);
      return 'holds-up';
    }
    if (!last) decide(`canary undecided after ${Math.round((Date.now() - stepStart) / 1000)}s at ${step.weight * 100}%: next step`, line);
  }
  if (!result) return 'holds-up'; // no steps: nothing was deployed, nothing to judge
  await recordVerdict(progress, 'canary', ctx, result, settings);
  if (canary.onInconclusive === 'rollback') {
    decide('canary inconclusive at the end of its bake: rolling back (canary.onInconclusive rollback)', line);
    await rollBack(progress, ctx, line);
    return 'rolled-back';
  }
  decide('canary inconclusive at the end of its bake: the offline evaluation stands', line);
  return 'holds-up';
}

/** The rule of specs recorded before the sequential test: live scores compared at the end of each step. */
async function runToleranceCanary(progress: RetrainProgress, ctx: LiveTestContext): Promise<'holds-up' | 'rolled-back'> {
  const { spec, decide } = progress;
  const { championVersion, challengerVersion } = ctx;
  progress.enterStage('canary');
  for (const step of spec.canary.steps) {
    const since = new Date().toISOString();
    await deploy({
      model: spec.name,
      champion: championVersion,
      canary: { version: challengerVersion, weight: step.weight },
      reason: `canary ${step.weight * 100}%`,
    });
    await sleep(parseDuration(step.bake));
    const live = await compareCanary({
      model: spec.name,
      since,
      championVersion,
      canaryVersion: challengerVersion,
      regression: isRegression(spec.label),
    });
    const line = `live ${live.canary.rmse !== undefined ? 'RMSE' : 'accuracy'} canary ${fmt(live.canary)} vs champion ${fmt(live.champion)} at ${step.weight * 100}% traffic`;
    if (live.canary.n >= spec.canary.minSamples && canaryIsWorse(live, spec.canary.tolerance)) {
      decide('canary is worse than the champion: rolling back', line);
      await rollBack(progress, ctx, line);
      return 'rolled-back';
    }
    decide(
      live.canary.n >= spec.canary.minSamples
        ? 'canary holds up'
        : `too few labelled canary predictions (${live.canary.n}); the offline evaluation stands`,
      line,
    );
  }
  return 'holds-up';
}

/** A live score with its count of labelled predictions. */
function fmt(s: Score): string {
  const value = s.rmse !== undefined ? s.rmse : s.accuracy;
  return value === null || s.n === 0 ? `n/a (0 labelled)` : `${value.toFixed(3)} (${s.n} labelled)`;
}
