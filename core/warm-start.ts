/**
 * Warm start: a sweep option (`training.sweep.families.warmStart`) whose trials continue the
 * champion's model on the new window instead of training a fresh one. Its trials are proposed,
 * trained, pruned and ranked like every other trial, so a fine-tuned champion and models trained
 * from scratch compete on the same rungs, validation split and objective. Pure.
 */
import { FAMILIES, FAMILY_PARAMS, WARM_START, type ModelConfig, type SweepSpec, type TrialConfig } from './search-space.ts';

/** The sweep that can run, with a note when warm starts were dropped, or why none can. */
export type WarmStartPlan = { sweep: SweepSpec; note?: string } | { error: string };

/**
 * A model's first retrain has no champion to continue, and a champion may not be continuable
 * (`blocker`: other features or classes than the spec now has): then its warmStart trials are
 * skipped, and a sweep with nothing else to try cannot run. A sweep without warmStart is
 * returned as it is.
 */
export function planWarmStart(
  model: string,
  sweep: SweepSpec,
  championVersion: string | undefined,
  blocker?: string | null,
): WarmStartPlan {
  if (!sweep.families.warmStart || (championVersion && !blocker)) return { sweep };
  const families = { ...sweep.families };
  delete families.warmStart;
  const why = championVersion ? `v${championVersion} cannot be continued (${blocker})` : `${model} has no champion yet to continue`;
  if (!FAMILIES.some((f) => families[f])) {
    return {
      error: championVersion
        ? `${why}, and the sweep's only family is warmStart: add a model family to training.sweep.families`
        : `${model} has no champion yet, and the sweep's only family is warmStart (which continues the champion): add a model family to training.sweep.families for the first retrain`,
    };
  }
  return { sweep: { ...sweep, families }, note: `warmStart trials skipped: ${why}` };
}

/** A proposal as the sweep trains it: a warm start names the champion version it continues. */
export function trialConfig(proposal: TrialConfig, championVersion: string | undefined): TrialConfig {
  if (proposal.family !== WARM_START) return proposal;
  if (!championVersion) throw new Error('a warmStart trial was proposed without a champion (see planWarmStart)');
  return { ...proposal, from: championVersion };
}

/** A trial's model configuration when it trains from scratch. */
export function scratchConfig(config: TrialConfig): ModelConfig {
  const { family, params } = config;
  if (family === WARM_START) throw new Error(`a warmStart trial needs the champion it continues (got ${JSON.stringify(config)})`);
  return { family, params };
}

/**
 * The model a warm-start trial trains: the champion's configuration with the trial's fine-tuning
 * settings, those its family has (a gbdt champion boosts on with the trial's learningRate; it has
 * no batchSize or optimizer).
 */
export function fineTunedConfig(champion: ModelConfig, trial: TrialConfig): ModelConfig {
  const settings = Object.entries(trial.params).filter(([name]) => FAMILY_PARAMS[champion.family].includes(name));
  return { family: champion.family, params: { ...champion.params, ...Object.fromEntries(settings) } };
}
