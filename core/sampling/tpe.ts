/**
 * Tree-structured Parzen Estimator, Optuna-style and independent (multivariate=False): until
 * `startupTrials` observations exist the proposal is random; then the observations split into
 * the best ceil(gamma * n) ("below", l) and the rest ("above", g). The family is chosen by
 * categorical TPE over all observations, then each of its parameters on its own, from the
 * observations of that family only (its parameters are conditional on it): draw `candidates`
 * values from l and keep the one maximising log l(x) - log g(x), the first on ties.
 * Deterministic for (seed, trialIndex, observations).
 */
import type { ParamSpec, ParamValue, SweepFamily, SweepSpec, TrialConfig } from '../search-space.ts';
import { rankValue } from '../sweep-plan.ts';
import { CategoricalParzen, NumericParzen } from './parzen.ts';
import { proposeRandom } from './random.ts';
import { derive, type Rng } from '../stats/rng.ts';
import { familiesOf, type Observation, searchedParams, STREAM } from './space.ts';

interface Estimator<T> {
  sample(rng: Rng): T;
  logPdf(x: T): number;
}

/** The candidate drawn from l with the highest l/g ratio (the expected-improvement criterion). */
function bestCandidate<T>(l: Estimator<T>, g: Estimator<T>, candidates: number, rng: Rng): T {
  let best = l.sample(rng);
  let bestScore = l.logPdf(best) - g.logPdf(best);
  for (let i = 1; i < candidates; i++) {
    const x = l.sample(rng);
    const score = l.logPdf(x) - g.logPdf(x);
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return best;
}

/** The best ceil(gamma * n) observations and the rest, each kept in trial order; ties go to the earlier trial. */
export function splitObservations(observations: Observation[], gamma: number): { below: Observation[]; above: Observation[] } {
  const ranked = observations.map((_, i) => i).sort((i, j) => rankValue(observations[j].value) - rankValue(observations[i].value) || i - j);
  const isBelow = new Set(ranked.slice(0, Math.ceil(gamma * observations.length)));
  return { below: observations.filter((_, i) => isBelow.has(i)), above: observations.filter((_, i) => !isBelow.has(i)) };
}

/** One parameter's TPE choice: l from the `below` observations, g from the `above` ones. */
function proposeParam(spec: ParamSpec, name: string, below: Observation[], above: Observation[], candidates: number, rng: Rng): ParamValue {
  if (spec.type === 'categorical') {
    // Observations whose value is not (or no longer) one of the choices say nothing about them.
    const indices = (obs: Observation[]) => obs.map((o) => spec.values.indexOf(o.config.params[name])).filter((i) => i >= 0);
    const l = new CategoricalParzen(spec.values.length, indices(below));
    const g = new CategoricalParzen(spec.values.length, indices(above));
    return spec.values[bestCandidate(l, g, candidates, rng)];
  }
  const inRange = (obs: Observation[]) =>
    obs.map((o) => o.config.params[name]).filter((v): v is number => typeof v === 'number' && v >= spec.low && v <= spec.high);
  return bestCandidate(new NumericParzen(spec, inRange(below)), new NumericParzen(spec, inRange(above)), candidates, rng);
}

function proposeFamily(families: SweepFamily[], below: Observation[], above: Observation[], candidates: number, rng: Rng): SweepFamily {
  if (families.length === 1) return families[0];
  const indices = (obs: Observation[]) => obs.map((o) => families.indexOf(o.config.family)).filter((i) => i >= 0);
  const l = new CategoricalParzen(families.length, indices(below));
  const g = new CategoricalParzen(families.length, indices(above));
  return families[bestCandidate(l, g, candidates, rng)];
}

export function proposeTpe(sweep: SweepSpec, trialIndex: number, observations: Observation[]): TrialConfig {
  const { startupTrials, candidates, gamma } = sweep.tpe;
  // Optuna's rule counts finished trials, not the trial index: proposals made while earlier
  // trials still run stay random until enough results are in. Nothing observed: nothing to model.
  if (observations.length < Math.max(1, startupTrials)) return proposeRandom(sweep, trialIndex);

  const rng = derive(sweep.seed, STREAM.trial, trialIndex);
  const { below, above } = splitObservations(observations, gamma);
  const family = proposeFamily(familiesOf(sweep), below, above, candidates, rng);
  const ofFamily = (obs: Observation[]) => obs.filter((o) => o.config.family === family);
  const [familyBelow, familyAbove] = [ofFamily(below), ofFamily(above)];
  const params = Object.fromEntries(
    searchedParams(sweep, family).map(([name, spec]) => [name, proposeParam(spec, name, familyBelow, familyAbove, candidates, rng)]),
  );
  return { family, params };
}
