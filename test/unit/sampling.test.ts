import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAMILY_PARAMS, type TrialConfig } from '../../core/search-space.ts';
import { SweepSpec } from '../../core/sweep-spec.ts';
import { gridSize, gridValues } from '../../core/sampling/grid.ts';
import { proposeConfig, type Observation } from '../../core/sampling/index.ts';
import { erfc, logGaussMass, normalPpf } from '../../core/stats/normal.ts';
import { CategoricalParzen, NumericParzen, observationWeights } from '../../core/sampling/parzen.ts';
import { derive } from '../../core/stats/rng.ts';
import { splitObservations } from '../../core/sampling/tpe.ts';

/** |actual - expected| within `rel` of |expected|. */
function close(actual: number, expected: number, rel = 1e-12, what = '') {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what} ${actual} is not within ${rel} (relative) of ${expected}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Every kind of parameter, in two families. */
const MIXED = {
  softmax: { learningRate: { type: 'float', low: 1e-4, high: 1, log: true }, batchSize: { type: 'int', low: 8, high: 512, log: true } },
  mlp: {
    depth: { type: 'int', low: 1, high: 4 },
    width: { type: 'int', low: 8, high: 512, log: true },
    dropout: { type: 'float', low: 0, high: 0.5 },
    activation: { type: 'categorical', values: ['relu', 'tanh'] },
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
  },
};
const sweepOf = (over: Record<string, unknown> = {}) => SweepSpec.parse({ families: MIXED, ...over });

/** Asserts a config lies in the sweep's space: its family's searched parameters exactly, each valid. */
function assertInSpace(sweep: SweepSpec, config: TrialConfig) {
  const space = sweep.families[config.family];
  assert.ok(space, `family ${config.family} is not searched`);
  assert.deepEqual(Object.keys(config.params).sort(), Object.keys(space).sort());
  for (const [name, value] of Object.entries(config.params)) {
    const p = space[name];
    if (p.type === 'categorical') assert.ok(p.values.includes(value), `${name}=${value}`);
    else {
      assert.equal(typeof value, 'number');
      assert.ok((value as number) >= p.low && (value as number) <= p.high, `${name}=${value} outside [${p.low}, ${p.high}]`);
      if (p.type === 'int') assert.ok(Number.isInteger(value), `${name}=${value} is not an integer`);
    }
  }
}

describe('rng', () => {
  it('derives the same stream from the same seed and keys, different ones otherwise', () => {
    const draw = (seed: number, ...keys: number[]) => {
      const rng = derive(seed, ...keys);
      return Array.from({ length: 4 }, () => rng.uniform());
    };
    assert.deepEqual(draw(42, 1, 7), draw(42, 1, 7));
    assert.notDeepEqual(draw(42, 1, 7), draw(42, 1, 8));
    assert.notDeepEqual(draw(42, 1, 7), draw(43, 1, 7));
    assert.notDeepEqual(draw(42), draw(42, 0)); // the key count is part of the key
    assert.notDeepEqual(draw(1), draw(2 ** 32 + 1)); // seeds beyond 32 bits stay distinct
    assert.notDeepEqual(draw(-1), draw(2 ** 32 - 1));
  });

  it('draws uniforms in [0, 1), inclusive ints and standard normals', () => {
    const rng = derive(7);
    const u = Array.from({ length: 20_000 }, () => rng.uniform());
    assert.ok(u.every((x) => x >= 0 && x < 1));
    close(u.reduce((s, x) => s + x, 0) / u.length, 0.5, 0.02, 'mean of uniforms'); // standard error 0.002
    const dice = Array.from({ length: 6000 }, () => rng.int(1, 6));
    assert.deepEqual([...new Set(dice)].sort(), [1, 2, 3, 4, 5, 6]);
    const z = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = z.reduce((s, x) => s + x, 0) / z.length;
    const variance = z.reduce((s, x) => s + (x - mean) ** 2, 0) / z.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`); // standard error 0.007
    close(variance, 1, 0.04, 'variance of normals'); // standard error 0.01
    assert.ok(['a', 'b', 'c'].includes(rng.choice(['a', 'b', 'c'])));
    assert.throws(() => rng.choice([]), RangeError);
    assert.throws(() => rng.int(3, 2), RangeError);
  });
});

describe('normal distribution', () => {
  // from scipy import special; from scipy.stats import norm; import numpy as np
  // [special.erfc(x) for x in [-1.5, 0.3, 1.99, 2.01, 5, 26]]
  // [norm.ppf(p) for p in [1e-20, 0.001, 0.3, 0.5, 0.975]]
  // np.log(norm.cdf(2) - norm.cdf(-3)), np.log(norm.cdf(1) - norm.cdf(-1)),
  // np.log(norm.sf(3) - norm.sf(3.1)), np.log(norm.sf(0.5) - norm.sf(40))
  it('matches scipy erfc, ppf and log Gaussian masses', () => {
    const erfcRef: [number, number][] = [
      [-1.5, 1.9661051464753108],
      [0.3, 0.6713732405408726],
      [1.99, 0.004888586800383002],
      [2.01, 0.004475150644751764],
      [5, 1.5374597944280347e-12],
      [26, 5.663192408856145e-296],
    ];
    for (const [x, ref] of erfcRef) close(erfc(x), ref, 1e-13, `erfc(${x})`);
    const ppfRef: [number, number][] = [
      [1e-20, -9.262340089798409],
      [0.001, -3.090232306167813],
      [0.3, -0.5244005127080409],
      [0.975, 1.959963984540054],
    ];
    for (const [p, ref] of ppfRef) close(normalPpf(p), ref, 1e-13, `ppf(${p})`);
    assert.ok(Math.abs(normalPpf(0.5)) < 1e-15);
    close(logGaussMass(-3, 2), -0.024395187554887357, 1e-13);
    close(logGaussMass(-1, 1), -0.38171514630212616, 1e-13);
    close(logGaussMass(3, 3.1), -7.869318471076655, 1e-13); // both in the upper tail
    close(logGaussMass(0.5, 40), -1.1759117615936188, 1e-13);
  });
});

describe('Parzen estimators (Optuna 5.0 rule, densities from scipy.stats.truncnorm)', () => {
  /*
   * Reference (project venv):
   *   import numpy as np
   *   from scipy.stats import truncnorm
   *   def mixture_logpdf(x, mus, sigmas, weights, low, high):
   *       w = np.asarray(weights) / np.sum(weights)
   *       return float(np.log(sum(wk * truncnorm.pdf(x, (low - m) / s, (high - m) / s, loc=m, scale=s)
   *                               for wk, m, s in zip(w, mus, sigmas))))
   *   def mixture_logmass(k, mus, sigmas, weights, low, high):  # P(int value == k): mass of [k - .5, k + .5]
   *       w = np.asarray(weights) / np.sum(weights)
   *       cdf = lambda x, m, s: truncnorm.cdf(x, (low - m) / s, (high - m) / s, loc=m, scale=s)
   *       return float(np.log(sum(wk * (cdf(k + .5, m, s) - cdf(k - .5, m, s)) for wk, m, s in zip(w, mus, sigmas))))
   *   # float [0, 10], observed 1, 2, 7.5 (sorted gaps 1, 1, 5.5, 2.5; outermost look inwards -> 1, 5.5, 5.5;
   *   # clipped to [10 / min(100, 3 + 2), 10] -> 2, 5.5, 5.5), prior N(5, 10):
   *   [mixture_logpdf(x, [1, 2, 7.5, 5], [2, 5.5, 5.5, 10], [1] * 4, 0, 10) for x in [0, 1.5, 4, 9.99]]
   *   # log float [1e-4, 1], observed 1e-3, 0.5, 0.01, in log space (sorted log 1e-3, log 0.01, log 0.5):
   *   lo, hi = np.log(1e-4), 0.0; m = np.log([1e-3, 0.5, 0.01]); gap1, gap2 = m[2] - m[0], m[1] - m[2]
   *   s = [gap1, gap2, max(gap1, gap2)]            # trial order; all above (hi - lo) / 5
   *   [mixture_logpdf(np.log(x), [*m, (lo + hi) / 2], [*s, hi - lo], [1] * 4, lo, hi) for x in [1e-4, 2e-3, 0.3]]
   *   # int [1, 8] -> [0.5, 8.5], observed 2, 2, 5, 8 (sigmas 0 -> 8/6 (clip), 3, 3, 3), prior N(4.5, 8):
   *   [mixture_logmass(k, [2, 2, 5, 8, 4.5], [8 / 6, 3, 3, 3, 8], [1] * 5, 0.5, 8.5) for k in [1, 2, 3, 8]]
   *   # categorical, 3 choices, observed 0, 2, 2: kernels one-hot + 1/4 everywhere, normalised; uniform prior
   *   rows = [np.array([1.25, .25, .25]) / 1.75] + [np.array([.25, .25, 1.25]) / 1.75] * 2 + [np.ones(3) / 3]
   *   np.log(sum(rows) / 4)
   * Also cross-checked against optuna 5.0.0's own _ParzenEstimator.log_pdf (agreement to 3e-13).
   */
  it('float: bandwidths, prior and mixture density', () => {
    const parzen = new NumericParzen({ type: 'float', low: 0, high: 10, log: false }, [1, 2, 7.5]);
    assert.deepEqual(parzen.mus, [1, 2, 7.5, 5]);
    assert.deepEqual(parzen.sigmas, [2, 5.5, 5.5, 10]);
    assert.deepEqual(parzen.weights, [0.25, 0.25, 0.25, 0.25]);
    const ref = [-2.0509651405976577, -1.9440915862101096, -2.2604371626183797, -2.7824826917602365];
    [0, 1.5, 4, 9.99].forEach((x, i) => close(parzen.logPdf(x), ref[i], 1e-12, `log l(${x})`));
  });

  it('log float: kernels in log space', () => {
    const parzen = new NumericParzen({ type: 'float', low: 1e-4, high: 1, log: true }, [1e-3, 0.5, 0.01]);
    const ref = [-2.560331167262559, -2.080501631045725, -2.3302361282672095];
    [1e-4, 2e-3, 0.3].forEach((x, i) => close(parzen.logPdf(x), ref[i], 1e-12, `log l(${x})`));
  });

  it('int: probability of each value, ties among observations', () => {
    const parzen = new NumericParzen({ type: 'int', low: 1, high: 8, log: false }, [2, 2, 5, 8]);
    assert.deepEqual(parzen.sigmas, [8 / 6, 3, 3, 3, 8]);
    const ref = [-2.049376139154882, -1.847983161186741, -1.8829364596461655, -2.3412213200003325];
    [1, 2, 3, 8].forEach((k, i) => close(parzen.logPdf(k), ref[i], 1e-12, `log P(${k})`));
    let total = 0;
    for (let k = 1; k <= 8; k++) total += Math.exp(parzen.logPdf(k));
    close(total, 1, 1e-12, 'total probability');
  });

  it('categorical: smoothed counts plus a uniform prior', () => {
    const parzen = new CategoricalParzen(3, [0, 2, 2]);
    const ref = [-1.0986122886681098, -1.6582280766035324, -0.7419373447293772];
    ref.forEach((r, c) => close(parzen.logPdf(c), r, 1e-12, `log P(${c})`));
    assert.deepEqual(new CategoricalParzen(4, []).probabilities, [0.25, 0.25, 0.25, 0.25]);
  });

  it("weights: Optuna's default_weights, older observations ramp down past 25", () => {
    // np.concatenate([np.linspace(1 / 30, 1, 5), np.ones(25)])
    const ref = [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, ...new Array(26).fill(1)];
    observationWeights(30).forEach((w, i) => close(w, ref[i], 1e-15, `weight ${i}`));
    assert.deepEqual(observationWeights(3), [1, 1, 1]);
    assert.deepEqual(observationWeights(26), [1 / 26, ...new Array(25).fill(1)]);
  });

  it('samples stay in range and follow the density', () => {
    const parzen = new NumericParzen({ type: 'float', low: 0, high: 10, log: false }, [1, 2, 7.5]);
    const rng = derive(3);
    const xs = Array.from({ length: 20_000 }, () => parzen.sample(rng));
    assert.ok(xs.every((x) => x >= 0 && x <= 10));
    // Share below 3 against the mixture CDF: scipy
    //   sum(0.25 * truncnorm.cdf(3, -m / s, (10 - m) / s, loc=m, scale=s) for m, s in zip([1, 2, 7.5, 5], [2, 5.5, 5.5, 10]))
    close(xs.filter((x) => x < 3).length / xs.length, 0.4110028978595268, 0.03, 'P(x < 3)'); // standard error 0.0035
  });
});

describe('proposeConfig', () => {
  const observe = (sweep: SweepSpec, n: number, objective: (c: TrialConfig) => number) => {
    const observations: Observation[] = [];
    for (let t = 0; t < n; t++) {
      const config = proposeConfig(sweep, t, observations);
      observations.push({ config, value: objective(config) });
    }
    return observations;
  };
  const lr = (c: TrialConfig) => -Math.abs(Math.log10(c.params.learningRate as number) + 2); // best at 1e-2

  for (const sampler of ['random', 'tpe', 'grid'] as const) {
    it(`${sampler}: deterministic for (seed, trial, observations); seeds differ`, () => {
      const a = observe(sweepOf({ sampler, seed: 1 }), 12, lr);
      assert.deepEqual(observe(sweepOf({ sampler, seed: 1 }), 12, lr), a);
      assert.notDeepEqual(observe(sweepOf({ sampler, seed: 2 }), 12, lr), a);
      // Trial i depends on nothing but its inputs: proposed alone, it is the same.
      assert.deepEqual(proposeConfig(sweepOf({ sampler, seed: 1 }), 11, a.slice(0, 11)), a[11].config);
    });

    it(`${sampler}: values in bounds, ints integral, only the chosen family's parameters`, () => {
      const sweep = sweepOf({ sampler, seed: 5 });
      const observations = observe(sweep, 40, lr);
      for (const o of observations) assertInSpace(sweep, o.config);
      assert.deepEqual(new Set(observations.map((o) => o.config.family)), new Set(['softmax', 'mlp']));
      const softmaxOnly = new Set(FAMILY_PARAMS.softmax);
      for (const o of observations.filter((o) => o.config.family === 'softmax')) {
        assert.ok(
          Object.keys(o.config.params).every((k) => softmaxOnly.has(k)),
          JSON.stringify(o.config),
        );
      }
    });
  }

  it('random: log ranges are uniform in log space (median near the geometric mean)', () => {
    const sweep = sweepOf({ sampler: 'random', seed: 9 });
    const configs = Array.from({ length: 4001 }, (_, t) => proposeConfig(sweep, t, []));
    const rates = configs.map((c) => c.params.learningRate as number);
    // log10 uniform on [-4, 0]: median -2, standard error of the sample median 0.03 (linear sampling: -0.3)
    assert.ok(Math.abs(Math.log10(median(rates)) + 2) < 0.1, `median learning rate ${median(rates)}`);
    // int log [8, 512], widened to [7.5, 512.5] as Optuna does: median sqrt(7.5 * 512.5) = 62
    const widths = configs.filter((c) => c.family === 'mlp').map((c) => c.params.width as number);
    assert.ok(Math.abs(Math.log(median(widths) / 62)) < 0.15, `median width ${median(widths)}`);
  });

  it('tpe: random until startupTrials observations, then models them', () => {
    const sweep = sweepOf({ seed: 4, tpe: { startupTrials: 3 } });
    const random = sweepOf({ sampler: 'random', seed: 4 });
    const observations = observe(sweep, 3, lr);
    observations.forEach((o, t) => assert.deepEqual(o.config, proposeConfig(random, t, [])));
    assert.notDeepEqual(proposeConfig(sweep, 3, observations), proposeConfig(random, 3, []));
  });

  it('tpe: picks the family and region where the best observations are', () => {
    const sweep = sweepOf({ seed: 11 });
    // The mlp family and learning rates near 1e-2 score best.
    const objective = (c: TrialConfig) => lr(c) - (c.family === 'mlp' ? 0 : 3);
    const observations = observe(sweep, 30, objective);
    const late = observations.slice(20);
    assert.ok(late.filter((o) => o.config.family === 'mlp').length >= 8, JSON.stringify(late.map((o) => o.config.family)));
    const rates = late.map((o) => Math.log10(o.config.params.learningRate as number));
    assert.ok(Math.abs(median(rates) + 2) < 0.5, `median log10 learning rate of trials 20-29: ${median(rates)}`);
  });

  it("tpe: a family's parameters are modelled on that family's observations only", () => {
    // softmax is good at small learning rates, mlp at large ones: pooled, the two cancel out.
    const families = {
      softmax: { learningRate: { type: 'float', low: 1e-4, high: 1, log: true } },
      mlp: { learningRate: { type: 'float', low: 1e-4, high: 1, log: true } },
    };
    const sweep = SweepSpec.parse({ families, seed: 2, tpe: { gamma: 0.5 } });
    const obs = (family: 'softmax' | 'mlp', learningRate: number, value: number): Observation => ({
      config: { family, params: { learningRate } },
      value,
    });
    const observations = [
      obs('softmax', 1e-4, 10),
      obs('softmax', 1.5e-4, 9),
      obs('softmax', 2e-4, 8),
      obs('mlp', 1, 7), // below
      obs('softmax', 1, 0),
      obs('mlp', 1e-4, 0),
      obs('mlp', 1.5e-4, 0),
      obs('mlp', 2e-4, 0), // above
    ];
    for (let t = 8; t < 16; t++) {
      const config = proposeConfig(sweep, t, observations);
      assert.equal(config.family, 'softmax');
      assert.ok((config.params.learningRate as number) < 1e-3, `trial ${t}: ${JSON.stringify(config)}`);
    }
  });

  it('tpe: below holds the best ceil(gamma n), ties to the earlier trial, NaN last, trial order kept', () => {
    const obs = [3, Number.NaN, 5, 1, 5, 4].map((value, i): Observation => ({ config: { family: 'mlp', params: { depth: i } }, value }));
    const { below, above } = splitObservations(obs, 0.5);
    assert.deepEqual(
      below.map((o) => o.config.params.depth),
      [2, 4, 5],
    );
    assert.deepEqual(
      above.map((o) => o.config.params.depth),
      [0, 1, 3],
    );
    assert.deepEqual(
      splitObservations(obs, 0.25).below.map((o) => o.config.params.depth),
      [2, 4],
    ); // ceil(1.5)
    assert.deepEqual(
      splitObservations(obs, 0.8).below.map((o) => o.config.params.depth),
      [0, 2, 3, 4, 5],
    ); // all but NaN
  });
});

describe('grid', () => {
  it('grid values: low, middle, high; geometric when log; ints rounded and de-duplicated', () => {
    assert.deepEqual(gridValues({ type: 'float', low: 0, high: 1, log: false }, 3), [0, 0.5, 1]);
    const log = gridValues({ type: 'float', low: 1e-4, high: 1, log: true }, 3) as number[];
    assert.equal(log[0], 1e-4);
    close(log[1], 1e-2, 1e-12);
    assert.equal(log[2], 1);
    assert.deepEqual(gridValues({ type: 'int', low: 8, high: 512, log: true }, 3), [8, 64, 512]);
    assert.deepEqual(gridValues({ type: 'int', low: 1, high: 4, log: false }, 3), [1, 3, 4]); // 2.5 rounds up
    assert.deepEqual(gridValues({ type: 'int', low: 1, high: 2, log: false }, 3), [1, 2]);
    assert.deepEqual(gridValues({ type: 'int', low: 0, high: 8, log: false }, 5), [0, 2, 4, 6, 8]);
    assert.deepEqual(gridValues({ type: 'categorical', values: ['a', 'b', 'a'] }, 3), ['a', 'b']);
  });

  it('enumerates the family x parameter product exactly once, then repeats it in the same order', () => {
    const families = {
      softmax: {
        learningRate: { type: 'float', low: 1e-3, high: 1e-1, log: true },
        optimizer: { type: 'categorical', values: ['adam', 'sgd'] },
      },
      mlp: { depth: { type: 'int', low: 1, high: 3 }, activation: { type: 'categorical', values: ['relu', 'tanh'] } },
      cnn: {},
    };
    const sweep = SweepSpec.parse({ families, sampler: 'grid', seed: 3 });
    assert.equal(gridSize(sweep), 3 * 2 + 3 * 2 + 1);
    const key = (c: TrialConfig) => JSON.stringify(c);
    const first = Array.from({ length: 13 }, (_, t) => key(proposeConfig(sweep, t, [])));
    const rates = gridValues(sweep.families.softmax!.learningRate, 3); // 1e-3, ~1e-2, 1e-1 (tested above)
    const canonical = [
      ...rates.flatMap((learningRate) => ['adam', 'sgd'].map((optimizer) => ({ family: 'softmax', params: { learningRate, optimizer } }))),
      ...[1, 2, 3].flatMap((depth) => ['relu', 'tanh'].map((activation) => ({ family: 'mlp', params: { activation, depth } }))),
      { family: 'cnn', params: {} },
    ].map(key as (c: unknown) => string);
    assert.deepEqual([...first].sort(), [...canonical].sort());
    assert.notDeepEqual(first, canonical, 'the order is shuffled, not canonical');
    assert.deepEqual(
      Array.from({ length: 13 }, (_, t) => key(proposeConfig(sweep, 13 + t, []))),
      first,
    );
    const other = Array.from({ length: 13 }, (_, t) => key(proposeConfig({ ...sweep, seed: 4 }, t, [])));
    assert.notDeepEqual(other, first);
  });
});

describe('TPE against random search', () => {
  /*
   * Branin (minimum 0.397887) on dropout and a log-scale learning rate, with a categorical switch
   * (activation: +0, +10, +30); minimise. 30 trials, TPE defaults (5 startup trials, 24
   * candidates, gamma 0.25). Median best loss over seeds 1..27, measured: random 2.417, TPE 1.100
   * (TPE locks onto a worse activation on 6 of 27 seeds: greedy categorical choice, as Optuna's).
   * Over seeds 1..540: random 3.80, TPE 1.41; TPE has the lower median in 53/60 blocks of 9 seeds
   * but in 20/20 blocks of 27 (smallest margin 0.31), hence 27 seeds, so the test does not rest on luck.
   */
  const branin = (x1: number, x2: number) => {
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  };
  const penalty: Record<string, number> = { relu: 0, tanh: 10, sigmoid: 30 };
  const loss = ({ params: p }: TrialConfig) =>
    branin(-5 + 15 * (p.dropout as number), (15 * (Math.log10(p.learningRate as number) + 4)) / 4) + penalty[p.activation as string];
  const families = {
    mlp: {
      dropout: { type: 'float', low: 0, high: 1 },
      learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
      activation: { type: 'categorical', values: ['relu', 'tanh', 'sigmoid'] },
    },
  };
  const bestAfter30 = (sampler: 'tpe' | 'random', seed: number) => {
    const sweep = SweepSpec.parse({ families, sampler, seed });
    const observations: Observation[] = [];
    for (let t = 0; t < 30; t++) {
      const config = proposeConfig(sweep, t, observations);
      observations.push({ config, value: -loss(config) });
    }
    return Math.min(...observations.map((o) => -o.value));
  };

  it('TPE reaches a lower median best loss after 30 trials over 27 seeds', () => {
    const seeds = Array.from({ length: 27 }, (_, i) => i + 1);
    const random = median(seeds.map((s) => bestAfter30('random', s)));
    const tpe = median(seeds.map((s) => bestAfter30('tpe', s)));
    assert.ok(tpe < random, `median best loss: TPE ${tpe}, random ${random}`);
  });
});
