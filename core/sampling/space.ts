/**
 * What every sampler needs to know about a sweep's search space: which families compete,
 * which of their parameters are searched, and how numeric ranges map to the space samplers
 * work in (log for log-scale ranges; ints widened by half a step on each side, as Optuna does,
 * so the end values get a full-width share).
 */
import { SWEEP_FAMILIES, type ParamSpec, type ParamValue, type SweepFamily, type SweepSpec, type TrialConfig } from '../search-space.ts';
import type { Rng } from '../stats/rng.ts';

/** A finished trial: `value` is oriented so that HIGHER IS BETTER (see sweep-plan's orient). */
export interface Observation {
  config: TrialConfig;
  value: number;
}

/**
 * An earlier sweep's trial as TPE uses it (core/sweep-history.ts): whether it counts among the
 * good observations, and its kernel's weight relative to one of this sweep's own observations.
 */
export interface PriorObservation {
  config: TrialConfig;
  good: boolean;
  weight: number;
}

export type NumericSpec = Extract<ParamSpec, { type: 'int' | 'float' }>;

/** Keys of the random streams: one per purpose, so streams never overlap. */
export const STREAM = { trial: 1, gridOrder: 2 } as const;

/** The families with a search space in the sweep (warmStart counts as one), in SWEEP_FAMILIES order. */
export function familiesOf(sweep: SweepSpec): SweepFamily[] {
  return SWEEP_FAMILIES.filter((f) => sweep.families[f] !== undefined);
}

/**
 * A family's searched parameters, sorted by name (plain code-unit order, never locale order):
 * the order a spec file lists them in must not change which numbers each one draws.
 */
export function searchedParams(sweep: SweepSpec, family: SweepFamily): [string, ParamSpec][] {
  return Object.entries(sweep.families[family] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The sampling interval of a numeric parameter, in internal (log and/or widened) units. */
export function internalRange(p: NumericSpec): [number, number] {
  const half = p.type === 'int' ? 0.5 : 0;
  return [toInternal(p, p.low - half), toInternal(p, p.high + half)];
}

export function toInternal(p: NumericSpec, value: number): number {
  return p.log ? Math.log(value) : value;
}

/** Back to a parameter value: exponentiated, rounded for ints, always within [low, high]. */
export function fromInternal(p: NumericSpec, x: number): number {
  const value = p.log ? Math.exp(x) : x;
  return Math.min(p.high, Math.max(p.low, p.type === 'int' ? Math.round(value) : value));
}

/** A value drawn uniformly (in log space for log ranges), as Optuna's RandomSampler does. */
export function sampleUniform(p: ParamSpec, rng: Rng): ParamValue {
  if (p.type === 'categorical') return rng.choice(p.values);
  const [lo, hi] = internalRange(p);
  return fromInternal(p, lo + rng.uniform() * (hi - lo));
}
