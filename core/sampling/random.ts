/** Random search: a family uniformly, then each of its searched parameters uniformly. */
import type { SweepSpec, TrialConfig } from '../search-space.ts';
import { derive } from '../stats/rng.ts';
import { familiesOf, sampleUniform, searchedParams, STREAM } from './space.ts';

export function proposeRandom(sweep: SweepSpec, trialIndex: number): TrialConfig {
  const rng = derive(sweep.seed, STREAM.trial, trialIndex);
  const family = rng.choice(familiesOf(sweep));
  const params = Object.fromEntries(searchedParams(sweep, family).map(([name, spec]) => [name, sampleUniform(spec, rng)]));
  return { family, params };
}
