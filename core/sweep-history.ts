/**
 * Sweeps that learn from earlier sweeps (`training.sweep.history`): the trials of a model's
 * earlier sweeps (and, with `from: tag`, of other models' sweeps sharing a tag) become prior
 * observations of TPE, and the first trial may retrain the champion's configuration. Pure: the
 * activity that reads MLflow (activities/sweep-history.ts) decides with these functions what it
 * keeps, and the sweep loop turns what it kept into the sampler's weighted priors.
 *
 * Objectives of earlier sweeps were measured on older windows (and, across a tag, on other
 * models' data): 0.81 then and 0.81 now are not the same thing, so raw objectives are never
 * mixed across sweeps. Each earlier trial is ranked within its own sweep instead, and TPE puts it
 * among the good ("below") observations when it ranked in its sweep's top gamma, as the sweep's
 * own split would have: the rank-normalised equivalent of TPE's split, per sweep.
 */
import { parseDuration } from './duration.ts';
import type { PriorObservation } from './sampling/space.ts';
import { familiesOf, searchedParams } from './sampling/space.ts';
import type { ParamValue, SweepSpec, TrialConfig } from './search-space.ts';
import { orient, rankValue } from './sweep-plan.ts';

export type HistorySettings = NonNullable<SweepSpec['history']>;

/** One earlier trial as this sweep may use it: its configuration in today's search space. */
export interface PriorTrial {
  runId: string;
  config: TrialConfig;
  /** Its first-rung objective as measured then (the value TPE learned from in its own sweep). */
  objective: number;
  /** Its place among its own sweep's finished trials, best first, over their number: 0 is the best; in [0, 1). */
  rank: number;
  /** Age of its sweep, in days, when this sweep read it. */
  ageDays: number;
}

/** Why an earlier trial was left out; counted per reason. */
export const DROP_REASONS = {
  familyNotSearched: 'its family is not searched any more',
  outsideSpace: "a parameter is outside today's range or choices",
  unfinished: 'it never finished its first rung',
  otherObjective: 'its sweep optimised another objective',
} as const;
export type DropReason = keyof typeof DROP_REASONS;

/** What the sweep history activity hands the sweep: small, it goes into workflow history. */
export interface SweepHistory {
  /** At most history.maxTrials, the most recent sweeps first, each sweep's in trial order. */
  trials: PriorTrial[];
  /** Earlier sweeps these trials come from. */
  sweeps: number;
  dropped: Partial<Record<DropReason, number>>;
  /** The champion's configuration, for the first trial (startFromChampion). */
  champion?: { version: string; config: TrialConfig };
  /** Why startFromChampion did not apply, when it did not. */
  championNote?: string;
}

/**
 * Each trial's rank within its sweep: its position when the sweep's objectives are sorted best
 * first (NaN, a diverged trial, last; ties to the earlier trial), divided by the count.
 */
export function ranksWithinSweep(objectives: number[], direction: 'maximize' | 'minimize'): number[] {
  const value = (i: number) => rankValue(orient(objectives[i], direction));
  const order = objectives.map((_, i) => i).sort((i, j) => value(j) - value(i) || i - j);
  const ranks = new Array<number>(objectives.length);
  order.forEach((trial, position) => (ranks[trial] = position / objectives.length));
  return ranks;
}

/**
 * An earlier trial's configuration in today's search space, from its run's params (MLflow keeps
 * them as text), or why it cannot be used. Parameters today's space does not search are left
 * out; a searched one it did not record is simply unknown (TPE skips it for that parameter).
 */
export function priorConfig(sweep: SweepSpec, family: string, params: Record<string, string>): TrialConfig | DropReason {
  const searched = familiesOf(sweep).find((f) => f === family);
  if (!searched) return 'familyNotSearched';
  const config: Record<string, ParamValue> = {};
  for (const [name, spec] of searchedParams(sweep, searched)) {
    const text = params[name];
    if (text === undefined) continue;
    if (spec.type === 'categorical') {
      const value = spec.values.find((v) => String(v) === text);
      if (value === undefined) return 'outsideSpace';
      config[name] = value;
    } else {
      const value = Number(text);
      const fits = text.trim() !== '' && Number.isFinite(value) && value >= spec.low && value <= spec.high;
      if (!fits || (spec.type === 'int' && !Number.isInteger(value))) return 'outsideSpace';
      config[name] = value;
    }
  }
  return { family: searched, params: config };
}

/** A prior trial's weight: `weight` when fresh, halved every halfLife of age. */
export function priorWeight(settings: HistorySettings, ageDays: number): number {
  if (settings.halfLife === undefined) return settings.weight;
  const halfLifeDays = parseDuration(settings.halfLife) / 86_400_000;
  return settings.weight * 0.5 ** (Math.max(0, ageDays) / halfLifeDays);
}

/** The sampler's prior observations: good when the trial ranked in its sweep's top gamma, weighted by age. */
export function samplerPriors(trials: PriorTrial[], settings: HistorySettings, gamma: number): PriorObservation[] {
  return trials.map((t) => ({ config: t.config, good: t.rank < gamma, weight: priorWeight(settings, t.ageDays) }));
}

/** "learned from 24 trials of 2 earlier sweeps (3 left out: 2 its family is not searched any more, ...)". */
export function describeHistory(history: SweepHistory): string {
  const dropped = Object.entries(history.dropped).filter(([, n]) => n);
  const left = dropped.reduce((s, [, n]) => s + n, 0);
  const why = dropped.map(([reason, n]) => `${n} ${DROP_REASONS[reason as DropReason]}`).join(', ');
  const sweeps = `${history.sweeps} earlier sweep${history.sweeps === 1 ? '' : 's'}`;
  return `learned from ${history.trials.length} trials of ${sweeps}${left ? ` (${left} left out: ${why})` : ''}`;
}
