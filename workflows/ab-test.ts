/**
 * The A/B test (deployment.strategy 'ab'): a fixed split of the traffic, sticky per request
 * `routingKey`, for `duration` or until the sequential test decides (core/live-test.ts). With
 * margin 0 the challenger is promoted only when it is shown better (superiority); a margin makes
 * it a non-inferiority test. Worse: rolled back. Undecided at the end: `onInconclusive`.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { parseDuration } from '../core/duration.ts';
import type { SequentialResult } from '../core/live-test.ts';
import { SHORT_CALL } from './activity-options.ts';
import { liveSettings, lookAgain, recordVerdict, rollBack, type LiveTestContext } from './live-test.ts';
import type { RetrainProgress } from './retrain.ts';

const { deploy, tagVersion } = proxyActivities<Activities>(SHORT_CALL);

export async function runAbTest(progress: RetrainProgress, ctx: LiveTestContext): Promise<'promote' | 'keep-champion' | 'rolled-back'> {
  const { spec, decide } = progress;
  const { ab } = spec.deployment;
  const settings = liveSettings(spec, ab.margin, ab.minSamples, ctx);
  progress.enterStage('ab-test');
  await deploy({
    model: spec.name,
    champion: ctx.championVersion,
    canary: { version: ctx.challengerVersion, weight: ab.split },
    reason: `A/B test of v${ctx.challengerVersion}: ${ab.split * 100}% of traffic`,
  });
  const since = new Date().toISOString();
  const duration = parseDuration(ab.duration);
  const every = parseDuration(ab.checkEvery);
  const start = Date.now();
  let result: SequentialResult | undefined;
  for (let elapsed = 0; elapsed < duration; elapsed = Date.now() - start) {
    await sleep(Math.min(every, duration - elapsed));
    result = await lookAgain(progress, 'ab-test', since, settings, ctx, result);
    if (result.decision !== 'continue') break;
  }
  await recordVerdict(progress, 'ab-test', ctx, result!, settings);
  const line = `${progress.live!.line}, split ${ab.split * 100}%`;
  if (result!.decision === 'worse') {
    decide('A/B test: the challenger is worse than the champion: rolling back', line);
    await rollBack(progress, ctx, line, 'A/B challenger');
    return 'rolled-back';
  }
  if (result!.decision === 'not-worse') {
    decide(
      ab.margin > 0
        ? `A/B test: the challenger is not worse than the champion (within ${ab.margin})`
        : 'A/B test: the challenger is better than the champion',
      line,
    );
    return 'promote';
  }
  if (ab.onInconclusive === 'promote') {
    decide(`A/B test inconclusive after ${ab.duration}: promoting (deployment.ab.onInconclusive promote)`, line);
    return 'promote';
  }
  decide(`A/B test inconclusive after ${ab.duration}: keeping the champion`, line);
  await deploy({ model: spec.name, champion: ctx.championVersion, reason: `end of A/B test of v${ctx.challengerVersion}: inconclusive` });
  await tagVersion({ model: spec.name, version: ctx.challengerVersion, tags: { 'perennial.outcome': 'ab-inconclusive' } });
  return 'keep-champion';
}
