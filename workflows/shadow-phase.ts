/**
 * The retrain's shadow phase (spec `shadow`), before the canary: the challenger gets a copy of
 * every request while the champion alone answers, for a bake timer; then the two are compared on
 * the same rows (core/shadow.ts). A shadow that does worse is removed and the retrain ends
 * without any user having seen its predictions; otherwise the canary follows.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { parseDuration } from '../core/duration.ts';
import { describeShadow, shadowIsWorse } from '../core/shadow.ts';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression } from '../core/spec-reading.ts';
import { SHORT_CALL } from './activity-options.ts';
import type { RetrainProgress } from './retrain.ts';

const { deploy, compareShadow, tagVersion } = proxyActivities<Activities>(SHORT_CALL);

export async function runShadow(
  progress: RetrainProgress,
  settings: NonNullable<ModelSpec['shadow']>,
  championVersion: string,
  challengerVersion: string,
): Promise<'holds-up' | 'rejected-in-shadow'> {
  const { spec, decide } = progress;
  const model = spec.name;
  progress.enterStage('shadow');
  const since = new Date().toISOString();
  await deploy({ model, champion: championVersion, shadow: { version: challengerVersion }, reason: `shadow of v${challengerVersion}` });
  await sleep(parseDuration(settings.bake));
  const live = await compareShadow({ model, since, shadowVersion: challengerVersion, regression: isRegression(spec.label) });
  const line = describeShadow(live);
  const worse = shadowIsWorse(live, settings);
  if (worse) {
    decide(`shadow is worse than the champion: ${worse}`, line);
    await deploy({ model, champion: championVersion, reason: `end of shadow v${challengerVersion}: worse than the champion` });
    await tagVersion({ model, version: challengerVersion, tags: { 'perennial.outcome': 'rejected-in-shadow' } });
    await progress.notify({
      kind: 'rollback',
      title: `${model} v${challengerVersion} rejected in shadow`,
      text: `${worse}: ${line}`,
      fields: { champion: championVersion },
    });
    return 'rejected-in-shadow';
  }
  decide(
    live.shadow.n >= settings.minSamples
      ? 'shadow holds up'
      : `too few labelled shadowed rows (${live.shadow.n}) for a live verdict: on to the canary`,
    line,
  );
  // The canary that follows replaces this deployment (champion + canary, no shadow).
  return 'holds-up';
}
