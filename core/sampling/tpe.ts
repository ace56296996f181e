/**
 * Tree-structured Parzen Estimator, Optuna-style and independent (multivariate=False): until
 * `startupTrials` observations exist the proposal is random; then the observations split into
 * the best ceil(gamma * n) ("below", l) and the rest ("above", g). The family is chosen by
 * categorical TPE over all observations, then each of its parameters on its own, from the
 * observations of that family only (its parameters are conditional on it): draw `candidates`
 * values from l and keep the one maximising log l(x) - log g(x), the first on ties.
 * Deterministic for (seed, trialIndex, observations, priors).
 *
 * Prior observations (earlier sweeps' trials, core/sweep-history.ts) join l when they ranked
 * among their own sweep's best, g otherwise, as extra kernels of their own (smaller) weight. They
 * count towards the start-up by their total weight, so enough of them skip the random phase.
 */
import type { ParamSpec, ParamValue, SweepFamily, SweepSpec, TrialConfig } from '../search-space.ts';
import { rankValue } from '../sweep-plan.ts';
import { CategoricalParzen, NumericParzen, type Weighted } from './parzen.ts';
import { proposeRandom } from './random.ts';
import { derive, type Rng } from '../stats/rng.ts';
import { familiesOf, type Observation, type PriorObservation, searchedParams, STREAM } from './space.ts';

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

/** Observations on the good (l) or the bad (g) side: this sweep's, and the earlier sweeps' with their weights. */
interface Side {
  own: Observation[];
  earlier: PriorObservation[];
}

/** Each observation's value (mapped by `valueOf`), dropping those `valueOf` cannot place (undefined). */
function values<T>(side: Side, valueOf: (config: Observation['config']) => T | undefined): { own: T[]; earlier: Weighted<T>[] } {
  const own = side.own.map((o) => valueOf(o.config)).filter((v): v is T => v !== undefined);
  const earlier = side.earlier.flatMap((p) => {
    const value = valueOf(p.config);
    return value === undefined ? [] : [{ value, weight: p.weight }];
  });
  return { own, earlier };
}

/** One parameter's TPE choice: l from the `below` observations, g from the `above` ones. */
function proposeParam(spec: ParamSpec, name: string, below: Side, above: Side, candidates: number, rng: Rng): ParamValue {
  if (spec.type === 'categorical') {
    // Observations whose value is not (or no longer) one of the choices say nothing about them.
    const index = (c: Observation['config']) => {
      const i = spec.values.indexOf(c.params[name]);
      return i >= 0 ? i : undefined;
    };
    const [l, g] = [values(below, index), values(above, index)].map((v) => new CategoricalParzen(spec.values.length, v.own, v.earlier));
    return spec.values[bestCandidate(l, g, candidates, rng)];
  }
  const inRange = (c: Observation['config']) => {
    const v = c.params[name];
    return typeof v === 'number' && v >= spec.low && v <= spec.high ? v : undefined;
  };
  const [l, g] = [values(below, inRange), values(above, inRange)].map((v) => new NumericParzen(spec, v.own, v.earlier));
  return bestCandidate(l, g, candidates, rng);
}

function proposeFamily(families: SweepFamily[], below: Side, above: Side, candidates: number, rng: Rng): SweepFamily {
  if (families.length === 1) return families[0];
  const index = (c: Observation['config']) => {
    const i = families.indexOf(c.family);
    return i >= 0 ? i : undefined;
  };
  const [l, g] = [values(below, index), values(above, index)].map((v) => new CategoricalParzen(families.length, v.own, v.earlier));
  return families[bestCandidate(l, g, candidates, rng)];
}

export function proposeTpe(
  sweep: SweepSpec,
  trialIndex: number,
  observations: Observation[],
  priors: PriorObservation[] = [],
): TrialConfig {
  const { startupTrials, candidates, gamma } = sweep.tpe;
  // Optuna's rule counts finished trials, not the trial index: proposals made while earlier
  // trials still run stay random until enough results are in. Nothing observed: nothing to model.
  const priorMass = priors.reduce((sum, p) => sum + p.weight, 0);
  if (observations.length + priorMass < Math.max(1, startupTrials)) return proposeRandom(sweep, trialIndex);

  const rng = derive(sweep.seed, STREAM.trial, trialIndex);
  const { below, above } = splitObservations(observations, gamma);
  const l: Side = { own: below, earlier: priors.filter((p) => p.good) };
  const g: Side = { own: above, earlier: priors.filter((p) => !p.good) };
  const family = proposeFamily(familiesOf(sweep), l, g, candidates, rng);
  const ofFamily = (side: Side): Side => ({
    own: side.own.filter((o) => o.config.family === family),
    earlier: side.earlier.filter((p) => p.config.family === family),
  });
  const [familyBelow, familyAbove] = [ofFamily(l), ofFamily(g)];
  const params = Object.fromEntries(
    searchedParams(sweep, family).map(([name, spec]) => [name, proposeParam(spec, name, familyBelow, familyAbove, candidates, rng)]),
  );
  return { family, params };
}
