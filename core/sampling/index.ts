/**
 * Trial proposals for the sweep workflow. PURE and deterministic (no I/O, clock or Math.random):
 * the same (sweep, trialIndex, observations) always gives the same configuration, so a replayed
 * workflow makes the same choices.
 */
import type { SweepSpec, TrialConfig } from '../search-space.ts';
import { proposeGrid } from './grid.ts';
import { proposeRandom } from './random.ts';
import type { Observation, PriorObservation } from './space.ts';
import { proposeTpe } from './tpe.ts';

export type { Observation, PriorObservation } from './space.ts';

/**
 * Trial `trialIndex`'s configuration; `observations` (higher value is better) in trial order;
 * `priors`: earlier sweeps' trials, which only TPE learns from (the spec allows history with TPE only).
 */
export function proposeConfig(
  sweep: SweepSpec,
  trialIndex: number,
  observations: Observation[],
  priors: PriorObservation[] = [],
): TrialConfig {
  switch (sweep.sampler) {
    case 'random':
      return proposeRandom(sweep, trialIndex);
    case 'grid':
      return proposeGrid(sweep, trialIndex);
    case 'tpe':
      return proposeTpe(sweep, trialIndex, observations, priors);
  }
}
