import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracy } from '../../core/metrics/classification.ts';
import { ksTwoSample } from '../../core/stats/ks.ts';
import { psi, PSI_EPSILON } from '../../core/stats/psi.ts';
import { median, quantileSorted, sampleSorted } from '../../core/stats/quantiles.ts';
import { chiSquareSf, logGamma } from '../../core/stats/gamma.ts';
import { equalWidthEdges, histogramShares, sturgesBins } from '../../core/stats/histogram.ts';
import { kolmogorovSf } from '../../core/stats/kolmogorov.ts';
import { clamp01, roundHalfEven } from '../../core/stats/numbers.ts';
import { mulberry32 } from '../../core/stats/rng.ts';
import { lowerBound, upperBound } from '../../core/stats/search.ts';
import { plainSum, populationStd, sumOf } from '../../core/stats/sums.ts';

/*
 * Reference values: SciPy 1.17.1 / NumPy 2.4.6 in the project venv (/work/main/.venv/bin/python):
 *
 *   import numpy as np
 *   from scipy import stats
 *   def show(name, a, b):
 *       r = stats.ks_2samp(a, b)
 *       print(f"{name}: statistic={float(r.statistic)!r}, pvalue={float(r.pvalue)!r}")
 *   g, s = 0.6180339887498949, 0.41421356237309515
 *   def seq(n, step, scale=1.0, shift=0.0):
 *       return np.array([((i * step) % 1.0) * scale + shift for i in range(1, n + 1)])
 *   show("A", [0.61, -0.29, 1.06, 0.59, -1.73, -0.74, 0.51, 2.2], [1.64, 0.95, 2.06, 0.64, 1.82, 0.37, 1.77])
 *   show("B", [0.1, 0.4, 0.35, 0.8, 0.65, 0.2, 0.9, 0.05, 0.55, 0.3],
 *             [0.45, 0.95, 0.7, 0.85, 0.6, 1.2, 0.75, 0.25, 1.1, 0.5])
 *   show("C", [1, 2, 2, 3, 3, 3, 4, 4, 5, 1, 2, 3, 3, 2, 4], [2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 3, 4])
 *   show("D", [3.0, 1.0, 2.0], [1.0, 2.0, 3.0])
 *   show("E", [1, 2, 3], [4, 5, 6, 7])
 *   show("F", seq(3000, g), seq(2000, s, 0.98, 0.03))
 *   show("G", seq(2500, g), seq(2500, s, 1.0, 0.02))
 *   show("H", seq(12000, g), seq(11000, s, 0.98, 0.03))
 *   show("I", seq(20000, g), seq(60, s, 0.9, 0.1))
 *   show("J", seq(15000, g), seq(15000, s, 1.0, 0.05))
 *   show("K", seq(15000, g), seq(15000, s, 1.0, 0.01))
 *   show("L", seq(20000, g), seq(202, s, 1.0, 0.02))
 *   show("M", seq(10001, g), seq(10001, s, 1.0, 0.012))
 *
 * The `seq` data uses only *, % and + on doubles, which IEEE 754 rounds identically in Python and JS,
 * so both sides test the same numbers.
 */
const G = 0.6180339887498949;
const S = 0.41421356237309515;
function seq(n: number, step: number, scale = 1, shift = 0): number[] {
  return Array.from({ length: n }, (_, k) => (((k + 1) * step) % 1) * scale + shift);
}

interface KsCase {
  name: string;
  a: number[];
  b: number[];
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

const cases: KsCase[] = [
  {
    name: 'A: small unequal sizes (exact, inside method)',
    a: [0.61, -0.29, 1.06, 0.59, -1.73, -0.74, 0.51, 2.2],
    b: [1.64, 0.95, 2.06, 0.64, 1.82, 0.37, 1.77],
    statistic: 0.6071428571428571,
    pValue: 0.08702408702408701,
    method: 'exact',
  },
  {
    name: 'B: small equal sizes (exact, closed form)',
    a: [0.1, 0.4, 0.35, 0.8, 0.65, 0.2, 0.9, 0.05, 0.55, 0.3],
    b: [0.45, 0.95, 0.7, 0.85, 0.6, 1.2, 0.75, 0.25, 1.1, 0.5],
    statistic: 0.5,
    pValue: 0.16782134274394334,
    method: 'exact',
  },
  {
    name: 'C: heavy ties within and across samples',
    a: [1, 2, 2, 3, 3, 3, 4, 4, 5, 1, 2, 3, 3, 2, 4],
    b: [2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 3, 4],
    statistic: 0.4,
    pValue: 0.18239056228018405,
    method: 'exact',
  },
  { name: 'D: identical samples', a: [3, 1, 2], b: [1, 2, 3], statistic: 0, pValue: 1, method: 'exact' },
  // Exactly 2 / C(7, 3): only the two fully separated orderings are as extreme.
  { name: 'E: fully separated', a: [1, 2, 3], b: [4, 5, 6, 7], statistic: 1, pValue: 0.05714285714285715, method: 'exact' },
  {
    name: 'F: 3000 vs 2000 (exact, large lcm)',
    a: seq(3000, G),
    b: seq(2000, S, 0.98, 0.03),
    statistic: 0.030333333333333334,
    pValue: 0.2164243568050333,
    method: 'exact',
  },
  {
    name: 'G: 2500 vs 2500 (exact, closed form)',
    a: seq(2500, G),
    b: seq(2500, S, 1, 0.02),
    statistic: 0.0212,
    pValue: 0.6280539716975119,
    method: 'exact',
  },
  {
    name: 'H: 12000 vs 11000 (asymptotic, Smirnov tail)',
    a: seq(12000, G),
    b: seq(11000, S, 0.98, 0.03),
    statistic: 0.03007575757575758,
    pValue: 6.061106424837146e-5,
    method: 'asymp',
  },
  {
    name: 'I: 20000 vs 60 (asymptotic, n = 60: Durbin matrix)',
    a: seq(20000, G),
    b: seq(60, S, 0.9, 0.1),
    statistic: 0.11095,
    pValue: 0.42067755149312014,
    method: 'asymp',
  },
  {
    name: 'J: 15000 vs 15000 shifted (asymptotic, tiny p)',
    a: seq(15000, G),
    b: seq(15000, S, 1, 0.05),
    statistic: 0.05026666666666668,
    pValue: 6.56862054402147e-17,
    method: 'asymp',
  },
  {
    name: 'K: 15000 vs 15000 (asymptotic, n = 7500: Pelz-Good)',
    a: seq(15000, G),
    b: seq(15000, S, 1, 0.01),
    statistic: 0.010266666666666646,
    pValue: 0.40522271850970215,
    method: 'asymp',
  },
  {
    name: 'L: 20000 vs 202 (asymptotic, n = 200: Durbin matrix)',
    a: seq(20000, G),
    b: seq(202, S, 1, 0.02),
    statistic: 0.025532178217821777,
    pValue: 0.999095585962478,
    method: 'asymp',
  },
  {
    // n = 10001 * 10001 / 20002 = 5000.5, rounded half-to-even to 5000 as numpy does
    // (kstwo.sf(D, 5000) = 0.4325250872978067, kstwo.sf(D, 5001) = 0.43239838564488076).
    name: 'M: 10001 vs 10001 (asymptotic, n rounds half to even)',
    a: seq(10001, G),
    b: seq(10001, S, 1, 0.012),
    statistic: 0.012298770122987746,
    pValue: 0.4325250872978067,
    method: 'asymp',
  },
];

function assertClose(actual: number, expected: number, rtol: number, what: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= rtol * Math.abs(expected) || err === 0,
    `${what}: got ${actual}, expected ${expected} (relative error ${err / Math.abs(expected)})`,
  );
}

describe('ksTwoSample matches scipy.stats.ks_2samp', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = ksTwoSample(c.a, c.b);
      assert.ok(Math.abs(r.statistic - c.statistic) <= 1e-12, `statistic ${r.statistic} vs ${c.statistic}`);
      assertClose(r.pValue, c.pValue, 1e-9, 'p-value');
      assert.equal(r.method, c.method);
      // The test is symmetric in its two samples.
      const swapped = ksTwoSample(c.b, c.a);
      assert.equal(swapped.statistic, r.statistic);
      assertClose(swapped.pValue, r.pValue, 1e-12, 'swapped p-value');
    });
  }

  it('accepts typed arrays and ignores NaN', () => {
    const c = cases[0];
    const r = ksTwoSample(Float64Array.from([...c.a, NaN]), [NaN, ...c.b]);
    assert.ok(Math.abs(r.statistic - c.statistic) <= 1e-12);
    assertClose(r.pValue, c.pValue, 1e-9, 'p-value');
  });

  it('rejects an empty sample', () => {
    assert.throws(() => ksTwoSample([], [1, 2]), RangeError);
    assert.throws(() => ksTwoSample([1], [NaN]), RangeError);
  });
});

describe('psi', () => {
  it('matches a hand computation (2 bins)', () => {
    // reference 1..10: the median cut is 5.5, r = [0.5, 0.5]; current 1..8: c = [5/8, 3/8].
    // PSI = (0.625 - 0.5) ln(0.625 / 0.5) + (0.375 - 0.5) ln(0.375 / 0.5) = 0.06385320297074884
    const ref = Array.from({ length: 10 }, (_, i) => i + 1);
    const cur = Array.from({ length: 8 }, (_, i) => i + 1);
    const expected = 0.125 * Math.log(1.25) + -0.125 * Math.log(0.75);
    assertClose(expected, 0.06385320297074884, 1e-15, 'hand value');
    assertClose(psi(ref, cur, 2), 0.06385320297074884, 1e-12, 'psi');
  });

  it('substitutes epsilon for an empty bin', () => {
    // current [20, 30] is all in the upper bin: c = [1e-4, 1], r = [0.5, 0.5]
    // PSI = (1e-4 - 0.5) ln(1e-4 / 0.5) + 0.5 ln 2 = 4.60431846666895
    const ref = Array.from({ length: 10 }, (_, i) => i + 1);
    assert.equal(PSI_EPSILON, 1e-4);
    assertClose(psi(ref, [20, 30], 2), 4.60431846666895, 1e-12, 'psi');
  });

  it('uses interpolated reference quantiles as cut points (numpy reference)', () => {
    // numpy: cuts = np.unique(np.quantile(ref, np.arange(1, bins) / bins));
    //        bins via np.searchsorted(cuts, x, side='left'); zero shares -> 1e-4;
    //        psi = sum((c - r) * log(c / r))  ->  0.3260019171190122
    // with ref = np.arange(1, 21), cur = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 1.5], bins = 4
    const ref = Array.from({ length: 20 }, (_, i) => i + 1);
    const cur = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 1.5];
    assertClose(psi(ref, cur, 4), 0.3260019171190122, 1e-12, 'psi');
  });

  it('is 0 for identical distributions and grows with the shift', () => {
    const ref = seq(1000, G);
    assert.equal(psi(ref, ref), 0);
    const small = psi(
      ref,
      ref.map((v) => v + 0.05),
    );
    const large = psi(
      ref,
      ref.map((v) => v + 0.3),
    );
    assert.ok(small > 0 && large > small, `${small} then ${large}`);
  });

  it('merges duplicate cut points of tied data', () => {
    // All cut points of a constant reference coincide: 2 bins (<= 1 and > 1).
    assertClose(psi([1, 1, 1, 1], [1, 1, 2, 2]), (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4), 1e-12, 'psi');
  });
});

describe('accuracy', () => {
  it('is the share of equal labels', () => {
    assert.equal(accuracy(['a', 'b', 'c', 'a'], ['a', 'b', 'a', 'b']), 0.5);
    assert.equal(accuracy(['x'], ['x']), 1);
  });
  it('is NaN for no predictions and throws on a length mismatch', () => {
    assert.ok(Number.isNaN(accuracy([], [])));
    assert.throws(() => accuracy(['a'], ['a', 'b']), RangeError);
  });
});

describe('median', () => {
  // numpy 2.4.6: np.median([3, 1, 2]) = 2.0, np.median([4, 1, 3, 2]) = 2.5, np.median([-1e308, 1e308]) = 0.0
  it('matches numpy.median for odd and even counts, in any order', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([-1e308, 1e308]), 0);
  });
  it('is NaN for no values and leaves its input alone', () => {
    assert.ok(Number.isNaN(median([])));
    const xs = [2, 1];
    median(xs);
    assert.deepEqual(xs, [2, 1]);
  });
});

describe('sampleSorted', () => {
  it('returns all finite values sorted when they fit', () => {
    assert.deepEqual(sampleSorted([3, NaN, 1, 2, Infinity], 10), [1, 2, 3]);
  });
  it('keeps evenly spaced order statistics, including min and max', () => {
    const values = Array.from({ length: 101 }, (_, i) => 100 - i); // 100..0
    assert.deepEqual(sampleSorted(values, 5), [0, 25, 50, 75, 100]);
    assert.deepEqual(sampleSorted(values, 3), [0, 50, 100]);
    assert.deepEqual(sampleSorted(values, 1), [50]);
  });
  it('is bounded and deterministic on large inputs', () => {
    const values = seq(50_000, G);
    const s1 = sampleSorted(values, 1000);
    const s2 = sampleSorted([...values].reverse(), 1000);
    assert.equal(s1.length, 1000);
    assert.deepEqual(s1, s2);
    for (let i = 1; i < s1.length; i++) assert.ok(s1[i - 1] <= s1[i]);
    assert.equal(s1[0], Math.min(...values));
    assert.equal(s1[999], Math.max(...values));
    // Its quantiles track the full data's (within one rank step of 1/999).
    const sorted = [...values].sort((p, q) => p - q);
    for (const q of [0.1, 0.5, 0.9]) {
      assert.ok(Math.abs(quantileSorted(s1, q) - quantileSorted(sorted, q)) < 2e-3, `q=${q}`);
    }
  });
  it('rejects a non-positive size', () => {
    assert.throws(() => sampleSorted([1], 0), RangeError);
  });
});

/*
 * Helpers that used to exist twice (or three times) and now serve every caller from core/stats/.
 * Reference values from the same venv (NumPy 2.4.6, SciPy 1.17.1):
 *
 *   np.histogram([1, 2, 2, 3, 4], bins=4)            -> [1, 2, 1, 1], edges [1, 1.75, 2.5, 3.25, 4]
 *   np.histogram_bin_edges(np.arange(10.), 'sturges') -> [0, 1.8, 3.6, 5.4, 7.2, 9]
 *   np.histogram([3., 3.], bins=2)                    -> [0, 2], edges [2.5, 3, 3.5]
 *   np.searchsorted([1, 2, 2, 3], 2, 'left' / 'right') -> 1 / 3
 *   stats.chi2.sf(3.84, 1), stats.chi2.sf(30, 10)    -> 0.05004352124870519, 0.000856641210775301
 *   special.gammaln(0.5), special.gammaln(20.5)      -> 0.5723649429247, 40.8315009745308
 *   stats.kstwo.sf(0.1, 100), stats.kstwo.sf(0.05, 1000) -> 0.2526927570063874, 0.013012074781090332
 *   np.round(2.5), np.round(3.5), np.round(-2.5)     -> 2, 4, -2
 *   math.fsum([1, 1e100, 1, -1e100]); np.std([1., 2., 3., 4.]) -> 2.0; 1.118033988749895
 */
describe('core/stats shared helpers', () => {
  it('histogram edges and shares match numpy (fixed bins, Sturges, degenerate range)', () => {
    const data = Float64Array.from([1, 2, 2, 3, 4]);
    const edges = equalWidthEdges(1, 4, 4);
    assert.deepEqual(edges, [1, 1.75, 2.5, 3.25, 4]);
    assert.deepEqual(histogramShares(data, edges), [1 / 5, 2 / 5, 1 / 5, 1 / 5]);
    const bins = sturgesBins(0, 9, 10);
    assert.equal(bins, 5);
    equalWidthEdges(0, 9, bins).forEach((e, i) => assertClose(e, [0, 1.8, 3.6, 5.4, 7.2, 9][i], 1e-15, `sturges edge ${i}`));
    assert.deepEqual(equalWidthEdges(3, 3, 2), [2.5, 3, 3.5]);
    assert.deepEqual(histogramShares(Float64Array.from([3, 3]), [2.5, 3, 3.5]), [0, 1]);
  });
  it('binary searches are searchsorted left / right', () => {
    assert.equal(lowerBound([1, 2, 2, 3], 2), 1);
    assert.equal(upperBound([1, 2, 2, 3], 2), 3);
    assert.equal(lowerBound([1, 2, 2, 3], 9), 4);
    assert.equal(upperBound([1, 2, 2, 3], 0), 0);
  });
  it('the gamma family (Stirling series shared with the Kolmogorov distribution) matches scipy', () => {
    assertClose(chiSquareSf(3.84, 1), 0.05004352124870519, 1e-12, 'chi2.sf(3.84, 1)');
    assertClose(chiSquareSf(30, 10), 0.000856641210775301, 1e-12, 'chi2.sf(30, 10)');
    assertClose(logGamma(0.5), 0.5723649429247, 1e-14, 'gammaln(0.5)');
    assertClose(logGamma(20.5), 40.8315009745308, 1e-14, 'gammaln(20.5)');
    assertClose(kolmogorovSf(100, 0.1), 0.2526927570063874, 1e-12, 'kstwo.sf(0.1, 100)');
    assertClose(kolmogorovSf(1000, 0.05), 0.013012074781090332, 1e-12, 'kstwo.sf(0.05, 1000)');
  });
  it('rounding and clamping', () => {
    assert.deepEqual([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-2.5), roundHalfEven(2.4)], [2, 4, -2, 2]);
    assert.deepEqual([clamp01(-1e-17), clamp01(0.3), clamp01(1 + 1e-15)], [0, 0.3, 1]);
  });
  it('the two summation orders: compensated (numpy-like) and plain (scikit-learn-like)', () => {
    assert.equal(sumOf([1, 1e100, 1, -1e100]), 2); // math.fsum
    assert.equal(plainSum([1, 1e100, 1, -1e100]), 0);
    assert.equal(populationStd(Float64Array.from([1, 2, 3, 4])), 1.118033988749895);
  });
  it('mulberry32 keeps the stream the data split and the training shuffles were recorded with', () => {
    // first draws of the copies that activities/data.ts and ml/train.ts each had before sharing this one
    const a = mulberry32(42);
    assert.deepEqual([a(), a(), a()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    const b = mulberry32(-1);
    assert.deepEqual([b(), b()], [0.8964226141106337, 0.189478256739676]);
  });
});
