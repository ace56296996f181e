import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, INITIAL_STATE, type SequentialOptions, type SequentialState } from '../../core/sequential/always-valid.ts';
import {
  EMPTY_MOMENTS,
  meanSequentialTest,
  mergeMoments,
  momentsOf,
  sampleVariance,
  squaredErrorMargin,
} from '../../core/sequential/difference-of-means.ts';
import { logMixtureLikelihoodRatio, mixtureConfidenceRadius } from '../../core/sequential/normal-mixture.ts';
import { twoProportionZTest } from '../../core/sequential/two-proportion-z-test.ts';
import { accuracySequentialTest, PROPORTION_DEFAULTS, proportionDifference, type Tally } from '../../core/sequential/two-proportions.ts';
import { derive } from '../../core/stats/rng.ts';

/*
 * Reference values: SciPy 1.17.1 / NumPy 2.4.6 in the project venv, computed WITHOUT the closed
 * forms under test: Λ by numerical integration of the mixture of likelihood ratios, and the
 * interval's ends as the roots of Λ(θ) = 1/α.
 *
 *   import numpy as np
 *   from scipy import integrate, optimize, stats
 *   def lam_quad(d, V, tau2, th0=0.0):   # Λ = ∫ φ(d; θ, V) / φ(d; θ0, V) dN(θ; θ0, τ²)
 *       f = lambda th: stats.norm.pdf(d, th, np.sqrt(V)) / stats.norm.pdf(d, th0, np.sqrt(V)) \
 *                      * stats.norm.pdf(th, th0, np.sqrt(tau2))
 *       return integrate.quad(f, th0 - 12*np.sqrt(tau2), th0 + 12*np.sqrt(tau2), epsabs=0, epsrel=1e-12, limit=200)[0]
 *   # A: champion 160/200 right, challenger 30/50; Agresti-Caffo adjusted shares for V; τ² = 0.0025
 *   c1, n1, c2, n2 = 160, 200, 30, 50
 *   d = c2/n2 - c1/n1; p1 = (c1+1)/(n1+2); p2 = (c2+1)/(n2+2); V = p1*(1-p1)/n1 + p2*(1-p2)/n2
 *   lam_quad(d, V, 0.0025)                                      # 2.4854904150173898
 *   g = lambda th: lam_quad(d, V, 0.0025, th) - 1/0.05
 *   optimize.brentq(g, d-1, d, xtol=1e-14), optimize.brentq(g, d, d+1, xtol=1e-14)
 *                                               # -0.5409082666071618, 0.1409082666071619
 *   # B: squared errors (the lists below), τ² = 0.25, V = var(e1, ddof=1)/40 + var(e2, ddof=1)/30
 *   lam_quad(dB, VB, 0.25)                                      # 1.1351576558840404
 *   interval                                    # -0.6431228428015715, 1.6448014928015717
 *   # z-test: chi2_contingency([[160, 40], [30, 20]], correction=False) -> chi2 8.771929824561404,
 *   #   p 0.0030590162109340666 (z = -sqrt(chi2)); Wald interval with stats.norm.ppf(0.975):
 *   #   -0.34667027441130366, -0.053329725588696475
 */

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`);

const CHAMPION_B = [
  2e-6, 0.089249, 0.075152, 0.793154, 0.206726, 0.983363, 0.003617, 1.796177, 0.242267, 0.384989, 0.239945, 0.127368, 0.011112, 0.865771,
  0.000856, 0.483447, 1.806913, 0.209412, 3.614648, 1.662908, 3.391988, 0.055268, 1.606421, 0.073584, 0.024571, 0.034943, 6.334079, 0.29019,
  0.002352, 0.012839, 2.341315, 0.228248, 0.9575, 0.654218, 1.125506, 0.652112, 0.001058, 0.782145, 0.340589, 0.012477,
];
const CHALLENGER_B = [
  0.020622, 0.006875, 2.536287, 0.009797, 3.120418, 4.04528, 1.24813, 0.024075, 0.695408, 6.762816, 0.981957, 2.430717, 0.009384, 0.562045,
  0.060229, 0.788159, 0.007477, 0.752421, 3.497197, 0.771518, 0.069738, 0.362765, 0.027373, 2.381938, 0.567148, 0.065053, 1.365142,
  2.216492, 2.960417, 1.067161,
];

describe('normal-mixture mSPRT (Johari, Pekelis & Walsh)', () => {
  it('Λ and the interval match numerical integration and root finding (case A, accuracy)', () => {
    const { effect, variance } = proportionDifference({ n: 200, correct: 160 }, { n: 50, correct: 30 });
    close(effect, -0.20000000000000007);
    close(variance, 0.0056239555351633354, 1e-14);
    close(Math.exp(logMixtureLikelihoodRatio(effect, variance, 0.0025)), 2.4854904150173898);
    const radius = mixtureConfidenceRadius(variance, 0.0025, 0.05);
    close(effect - radius, -0.5409082666071618);
    close(effect + radius, 0.1409082666071619);
  });

  it('one look of the accuracy test reports Λ as e-value, 1/Λ as p-value, the interval and the samples', () => {
    const r = accuracySequentialTest(INITIAL_STATE, { n: 200, correct: 160 }, { n: 50, correct: 30 });
    close(r.eValue, 2.4854904150173898);
    close(r.pValue, 1 / 2.4854904150173898);
    close(r.lower!, -0.5409082666071618);
    close(r.upper!, 0.1409082666071619);
    assert.deepEqual(r.samples, { champion: 200, challenger: 50 });
    assert.equal(r.decision, 'continue');
  });

  it('the squared-error test matches case B', () => {
    const options: SequentialOptions = { alpha: 0.05, margin: 0.1, mixingVariance: 0.25, minSamples: 20 };
    const r = meanSequentialTest(INITIAL_STATE, momentsOf(CHAMPION_B), momentsOf(CHALLENGER_B), options);
    close(r.effect, 0.5008393250000002);
    close(r.eValue, 1.1351576558840404);
    close(r.lower!, -0.6431228428015715);
    close(r.upper!, 1.6448014928015717);
    assert.equal(r.decision, 'continue');
  });

  it('merging batches of moments equals the moments of all values', () => {
    let merged = EMPTY_MOMENTS;
    for (let i = 0; i < CHAMPION_B.length; i += 7) merged = mergeMoments(merged, momentsOf(CHAMPION_B.slice(i, i + 7)));
    const whole = momentsOf(CHAMPION_B);
    assert.equal(merged.n, whole.n);
    close(merged.mean, whole.mean, 1e-14);
    close(sampleVariance(merged), sampleVariance(whole), 1e-13);
  });

  it('the relative RMSE tolerance becomes a squared-error margin', () => {
    close(squaredErrorMargin(0.05, 4), (1.05 ** 2 - 1) * 4, 1e-15);
  });
});

describe('sequential verdicts', () => {
  const state = (lower: number | null, upper: number | null): SequentialState => ({ looks: 1, maxLogLikelihoodRatio: 0, lower, upper });

  it('accuracy: worse below 0, not worse above -margin, worse wins when both hold', () => {
    assert.equal(decide(state(-0.2, -0.01), 'higher-is-better', 0.05), 'worse');
    assert.equal(decide(state(-0.04, 0.1), 'higher-is-better', 0.05), 'not-worse');
    assert.equal(decide(state(-0.04, -0.01), 'higher-is-better', 0.05), 'worse');
    assert.equal(decide(state(-0.06, 0.1), 'higher-is-better', 0.05), 'continue');
    assert.equal(decide(state(null, null), 'higher-is-better', 0.05), 'continue');
  });

  it('squared errors: worse above 0, not worse below +margin', () => {
    assert.equal(decide(state(0.01, 0.3), 'lower-is-better', 0.05), 'worse');
    assert.equal(decide(state(-0.3, 0.04), 'lower-is-better', 0.05), 'not-worse');
    assert.equal(decide(state(-0.3, 0.06), 'lower-is-better', 0.05), 'continue');
  });

  it('looks before minSamples per arm change nothing', () => {
    const r = accuracySequentialTest(INITIAL_STATE, { n: 19, correct: 19 }, { n: 300, correct: 0 });
    assert.equal(r.state, INITIAL_STATE);
    assert.equal(r.decision, 'continue');
    assert.equal(r.pValue, 1);
  });

  it('the state survives JSON (workflow history)', () => {
    const r = accuracySequentialTest(INITIAL_STATE, { n: 200, correct: 160 }, { n: 50, correct: 30 });
    assert.deepEqual(JSON.parse(JSON.stringify(r.state)), r.state);
    assert.deepEqual(JSON.parse(JSON.stringify(INITIAL_STATE)), INITIAL_STATE);
  });
});

/** A canary stream: labels go to the challenger with probability `weight`; accuracies p0 and p0 + effect. */
function* stream(seed: number, p0: number, effect: number, weight: number, batch: number, looks: number) {
  const rng = derive(seed);
  const champion: Tally = { n: 0, correct: 0 };
  const challenger: Tally = { n: 0, correct: 0 };
  for (let look = 0; look < looks; look++) {
    for (let i = 0; i < batch; i++) {
      const arm = rng.uniform() < weight ? challenger : champion;
      const p = arm === challenger ? p0 + effect : p0;
      arm.n++;
      if (rng.uniform() < p) arm.correct++;
    }
    yield { champion: { ...champion }, challenger: { ...challenger } };
  }
}

describe('always-valid properties in simulation', () => {
  it('under a fixed effect the p-value never increases and the test ends "worse"', () => {
    let state = INITIAL_STATE;
    let previous = 1;
    let last;
    for (const t of stream(11, 0.8, -0.15, 0.3, 50, 80)) {
      last = accuracySequentialTest(state, t.champion, t.challenger);
      state = last.state;
      assert.ok(last.pValue <= previous);
      previous = last.pValue;
    }
    assert.ok(last!.pValue < 0.05, `p ${last!.pValue}`);
    assert.equal(last!.decision, 'worse');
  });

  it('the running interval holds the true effect over whole paths at about the nominal rate or more', () => {
    const effect = -0.03;
    const paths = 300;
    let covered = 0;
    let falseRollbacks = 0;
    for (let seed = 0; seed < paths; seed++) {
      let state = INITIAL_STATE;
      let everWrong = false;
      for (const t of stream(1000 + seed, 0.8, effect, 0.5, 50, 40)) {
        const r = accuracySequentialTest(state, t.champion, t.challenger);
        state = r.state;
        if (r.lower !== null && (r.lower > effect || r.upper! < effect)) everWrong = true;
      }
      if (!everWrong) covered++;
      // The challenger is truly worse: an interval entirely above 0 would call it better.
      if (state.lower !== null && state.lower > 0) falseRollbacks++;
    }
    // Always valid at 95%: the whole path stays covered in at least ~95% of paths (Ville's bound
    // is conservative, so usually more); 0.92 leaves room for the plug-in variance's early noise.
    assert.ok(covered / paths >= 0.92, `coverage ${covered / paths}`);
    assert.equal(falseRollbacks, 0);
  });

  it('as good a challenger is rarely rolled back although every batch is looked at', () => {
    let rolledBack = 0;
    const paths = 300;
    for (let seed = 0; seed < paths; seed++) {
      let state = INITIAL_STATE;
      for (const t of stream(5000 + seed, 0.8, 0, 0.2, 50, 60)) {
        const r = accuracySequentialTest(state, t.champion, t.challenger, PROPORTION_DEFAULTS);
        state = r.state;
        if (r.decision === 'worse') {
          rolledBack++;
          break;
        }
      }
    }
    assert.ok(rolledBack / paths <= 0.05, `false rollbacks ${rolledBack / paths}`);
  });
});

describe('always-valid squared-error test in simulation', () => {
  // Champion errors N(0, 1), challenger errors N(0, 1.1²): true MSE difference 1.21 - 1 = 0.21.
  const options: SequentialOptions = { alpha: 0.05, margin: squaredErrorMargin(0.05, 1), mixingVariance: 0.01, minSamples: 20 };

  it('covers the true difference over whole paths, and the p-value never increases', () => {
    const paths = 200;
    let covered = 0;
    for (let seed = 0; seed < paths; seed++) {
      const rng = derive(9000 + seed);
      let champion = EMPTY_MOMENTS;
      let challenger = EMPTY_MOMENTS;
      let state = INITIAL_STATE;
      let previous = 1;
      let everWrong = false;
      for (let look = 0; look < 40; look++) {
        const batch: [number[], number[]] = [[], []];
        for (let i = 0; i < 50; i++) {
          const toChallenger = rng.uniform() < 0.5 ? 1 : 0;
          const error = rng.normal() * (toChallenger ? 1.1 : 1);
          batch[toChallenger].push(error * error);
        }
        champion = mergeMoments(champion, momentsOf(batch[0]));
        challenger = mergeMoments(challenger, momentsOf(batch[1]));
        const r = meanSequentialTest(state, champion, challenger, options);
        state = r.state;
        assert.ok(r.pValue <= previous);
        previous = r.pValue;
        if (r.lower !== null && (r.lower > 0.21 || r.upper! < 0.21)) everWrong = true;
      }
      if (!everWrong) covered++;
    }
    assert.ok(covered / paths >= 0.92, `coverage ${covered / paths}`);
  });
});

describe('fixed-horizon two-proportion z-test', () => {
  it('matches scipy chi2_contingency (pooled z) and the Wald interval', () => {
    const r = twoProportionZTest({ n: 200, correct: 160 }, { n: 50, correct: 30 });
    close(r.z * r.z, 8.771929824561404);
    assert.ok(r.z < 0);
    close(r.pValue, 0.0030590162109340666, 1e-9);
    close(r.lower, -0.34667027441130366);
    close(r.upper, -0.053329725588696475);
  });

  it('no difference when both arms are all right; refuses an empty arm', () => {
    const r = twoProportionZTest({ n: 10, correct: 10 }, { n: 12, correct: 12 });
    assert.equal(r.pValue, 1);
    assert.throws(() => twoProportionZTest({ n: 0, correct: 0 }, { n: 5, correct: 4 }), RangeError);
  });
});
