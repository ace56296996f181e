import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTO_TEST_MAX_ROWS, DRIFT_TEST_NAMES, DRIFT_TESTS, DriftTestError } from '../../core/drift/catalogue.ts';
import { featureDrift } from '../../core/drift/feature-drift.ts';
import { chiSquare, UNSEEN_CATEGORY_SHARE } from '../../core/drift/tests/chi-square.ts';
import { jensenShannon, jensenShannonCategories } from '../../core/drift/tests/jensen-shannon.ts';
import { lInfinity } from '../../core/drift/tests/linf.ts';
import { WASSERSTEIN_MIN_STD, wassersteinNormed } from '../../core/drift/tests/wasserstein.ts';
import { chiSquareSf } from '../../core/stats/gamma.ts';
import { ksTwoSample } from '../../core/stats/ks.ts';
import { psi } from '../../core/stats/psi.ts';

/*
 * Reference values: SciPy 1.17.1 / NumPy 2.4.6 in the project venv (/work/main/.venv/bin/python).
 * The helpers restate Evidently's legacy stattests (wasserstein_distance_norm.py, jensenshannon.py with
 * utils.get_binned_data(feel_zeroes=False), chisquare_stattest.py) in plain numpy/scipy; `chi` adds
 * this module's documented choice for categories unseen in the reference (share 1e-4, renormalised).
 *
 *   import numpy as np
 *   from scipy import stats
 *   from scipy.spatial import distance
 *
 *   g, s = 0.6180339887498949, 0.41421356237309515
 *   def seq(n, step, scale=1.0, shift=0.0):
 *       return np.array([((i * step) % 1.0) * scale + shift for i in range(1, n + 1)])
 *
 *   def wass(ref, cur):  # Evidently's wasserstein stattest
 *       return stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
 *
 *   def js(ref, cur, bins="sturges"):  # Evidently's get_binned_data(feel_zeroes=False) + jensenshannon
 *       ref, cur = np.asarray(ref, float), np.asarray(cur, float)
 *       if len(np.unique(ref)) > 20:
 *           edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=bins)
 *           r = np.histogram(ref, edges)[0] / len(ref)
 *           c = np.histogram(cur, edges)[0] / len(cur)
 *       else:
 *           keys = sorted(set(ref) | set(cur))
 *           r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
 *           c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
 *       return distance.jensenshannon(r, c)
 *
 *   def shares(ref, cur):
 *       keys = sorted(k for k in set(ref) | set(cur) if ref.get(k, 0) > 0 or cur.get(k, 0) > 0)
 *       r = np.array([ref.get(k, 0) for k in keys], float)
 *       c = np.array([cur.get(k, 0) for k in keys], float)
 *       return r, c
 *
 *   def chi(ref, cur):  # expected from reference shares; unseen categories get share 1e-4, renormalised
 *       r, c = shares(ref, cur)
 *       share = r / r.sum()
 *       share[share == 0] = 1e-4
 *       res = stats.chisquare(c, share / share.sum() * c.sum())
 *       return float(res.statistic), float(res.pvalue)
 *
 *   def js_cat(ref, cur):
 *       r, c = shares(ref, cur)
 *       return distance.jensenshannon(r / r.sum(), c / c.sum())
 *
 *   def linf(ref, cur):
 *       r, c = shares(ref, cur)
 *       return np.max(np.abs(r / r.sum() - c / c.sum()))
 *
 *   show = lambda name, v: print(f"{name}: {v!r}")
 *   show("W1", wass(seq(1000, g), seq(800, s, 1.1, 0.05)))
 *   show("W2", wass(seq(1000, g), seq(1500, s, 1.0, 0.3)))
 *   show("W3", wass([1, 2, 2, 3, 5], [2, 2, 4, 4, 4, 6]))
 *   show("W4", wass([2, 2, 2, 2], [2, 3]))
 *   show("W6", wass([0, 1], [10, 11]))
 *   show("J1", js(seq(1000, g), seq(1200, s, 0.9, 0.2)))
 *   show("J1 bins", len(np.histogram_bin_edges(np.concatenate([seq(1000, g), seq(1200, s, 0.9, 0.2)]), bins="sturges")) - 1)
 *   show("J2", js(seq(1000, g), seq(1200, s, 0.9, 0.2), bins=7))
 *   show("J3", js(seq(300, g, 2.0, -1.0), seq(50, s, 3.0, 0.0)))
 *   show("J4", js([float((i * 7) % 5) for i in range(1, 101)], [float((i * 3) % 6) for i in range(1, 81)]))
 *   show("J5", js(seq(500, g), seq(500, s, 1.0, 2.0)))
 *   show("J7a", js([float(i % 20) for i in range(1, 201)], [float(i % 23) * 0.9 for i in range(1, 151)]))
 *   show("J7b", js([float(i % 21) for i in range(1, 201)], [float(i % 23) * 0.9 for i in range(1, 151)]))
 *   C1 = ({"a": 50, "b": 30, "c": 20}, {"a": 40, "b": 35, "c": 25})
 *   C2 = ({"a": 50, "b": 30, "c": 20}, {"a": 40, "b": 30, "c": 20, "d": 10})
 *   C2b = ({"a": 500, "b": 300, "c": 200}, {"a": 5000, "b": 3000, "c": 1999, "d": 1})
 *   C3 = ({"a": 10}, {"b": 5})
 *   C5 = ({f"k{i}": (i * 7) % 13 + 1 for i in range(40)}, {f"k{i}": (i * 5) % 11 + 2 for i in range(40)})
 *   for name, (r, c) in [("C1", C1), ("C2", C2), ("C2b", C2b), ("C3", C3), ("C5", C5)]:
 *       show(name + " chi", chi(r, c))
 *       show(name + " js", float(js_cat(r, c)))
 *       show(name + " linf", float(linf(r, c)))
 *   for x, df in [(0.5, 1), (3.841458820694124, 1), (1e-10, 1), (10.0, 3), (0.001, 2), (80.0, 2), (50.0, 10),
 *                 (0.1, 30), (200.0, 150), (1500.0, 1000), (900.0, 999), (2.0, 0.5), (700.0, 3), (12.5, 7),
 *                 (4100.0, 4000), (60.0, 1), (0.2, 0.5), (31.0, 40)]:
 *       show(f"sf({x}, {df})", float(stats.chi2.sf(x, df)))
 *
 * The `seq` data uses only *, % and + on doubles, which IEEE 754 rounds identically in Python and JS,
 * so both sides test the same numbers.
 */
const G = 0.6180339887498949;
const S = 0.41421356237309515;
function seq(n: number, step: number, scale = 1, shift = 0): number[] {
  return Array.from({ length: n }, (_, k) => (((k + 1) * step) % 1) * scale + shift);
}
const ascending = (values: number[]): number[] => [...values].sort((p, q) => p - q);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

function assertClose(actual: number, expected: number, rtol: number, what: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= rtol * Math.abs(expected) || err === 0,
    `${what}: got ${actual}, expected ${expected} (relative error ${err / Math.abs(expected)})`,
  );
}

describe('wassersteinNormed matches wasserstein_distance / max(np.std(ref), 0.001)', () => {
  const cases: Array<{ name: string; ref: number[]; cur: number[]; expected: number }> = [
    { name: 'W1: 1000 vs 800, scaled and shifted', ref: seq(1000, G), cur: seq(800, S, 1.1, 0.05), expected: 0.34652452656730887 },
    { name: 'W2: 1000 vs 1500, shifted by 0.3', ref: seq(1000, G), cur: seq(1500, S, 1, 0.3), expected: 1.039099839410486 },
    { name: 'W3: ties within and across samples', ref: [1, 2, 2, 3, 5], cur: [2, 2, 4, 4, 4, 6], expected: 0.8355044182110836 },
    // constant reference: std 0, so the distance 0.5 is divided by the 0.001 floor
    { name: 'W4: constant reference', ref: [2, 2, 2, 2], cur: [2, 3], expected: 500 },
    // disjoint: every unit of mass moves 10; std of [0, 1] is 0.5
    { name: 'W6: disjoint samples', ref: [0, 1], cur: [10, 11], expected: 20 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assertClose(wassersteinNormed(ascending(c.ref), c.cur), c.expected, 1e-12, 'wasserstein');
      // input order does not matter
      assertClose(wassersteinNormed([...c.ref].reverse(), [...c.cur].reverse()), c.expected, 1e-12, 'reversed input');
    });
  }

  it('is exactly 0 for identical samples, constant or not', () => {
    const ref = ascending(seq(1000, G));
    assert.equal(wassersteinNormed(ref, [...ref].reverse()), 0);
    assert.equal(wassersteinNormed([3, 3], [3, 3, 3]), 0);
    assert.equal(WASSERSTEIN_MIN_STD, 0.001);
  });

  it('ignores non-finite values and rejects a sample without finite values', () => {
    assertClose(wassersteinNormed([0, NaN, 1, Infinity], [10, -Infinity, 11]), 20, 1e-15, 'wasserstein');
    assert.throws(() => wassersteinNormed([], [1]), DriftTestError);
    assert.throws(() => wassersteinNormed([1], [NaN, Infinity]), DriftTestError);
  });
});

describe('jensenShannon (numeric) matches Evidently binning + scipy jensenshannon', () => {
  const cases: Array<{ name: string; ref: number[]; cur: number[]; bins?: number; expected: number }> = [
    // Sturges over 2200 values: ceil(log2(2200) + 1) = 13 bins
    { name: 'J1: Sturges bins', ref: seq(1000, G), cur: seq(1200, S, 0.9, 0.2), expected: 0.30675094217810644 },
    { name: 'J2: explicit bins = 7', ref: seq(1000, G), cur: seq(1200, S, 0.9, 0.2), bins: 7, expected: 0.26693527507732867 },
    { name: 'J3: current wider than the reference', ref: seq(300, G, 2, -1), cur: seq(50, S, 3, 0), expected: 0.6169090680614797 },
    // reference with <= 20 distinct values: each value is a category; current has the unseen value 5
    {
      name: 'J4: discrete reference (5 values), unseen value in current',
      ref: range(1, 100).map((i) => (i * 7) % 5),
      cur: range(1, 80).map((i) => (i * 3) % 6),
      expected: 0.523792390695269,
    },
    // disjoint supports: sqrt(ln 2) up to rounding
    { name: 'J5: disjoint samples', ref: seq(500, G), cur: seq(500, S, 1, 2), expected: 0.8325546111576978 },
    // exactly 20 distinct reference values: still treated as categories ...
    {
      name: 'J7a: 20 distinct reference values (categories)',
      ref: range(1, 200).map((i) => i % 20),
      cur: range(1, 150).map((i) => (i % 23) * 0.9),
      expected: 0.7732058369339637,
    },
    // ... 21 distinct: histogram bins
    {
      name: 'J7b: 21 distinct reference values (histogram)',
      ref: range(1, 200).map((i) => i % 21),
      cur: range(1, 150).map((i) => (i % 23) * 0.9),
      expected: 0.06605972801123558,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assertClose(jensenShannon(ascending(c.ref), c.cur, c.bins), c.expected, 1e-12, 'jensen-shannon');
    });
  }

  it('is 0 for identical samples and at most sqrt(ln 2)', () => {
    const ref = ascending(seq(1000, G));
    assert.equal(jensenShannon(ref, [...ref].reverse()), 0);
    assert.equal(jensenShannon([1, 2, 2], [2, 1, 2]), 0);
    assert.ok(jensenShannon([0], [1]) <= Math.sqrt(Math.LN2) + 1e-15);
    assertClose(jensenShannon([0], [1]), Math.sqrt(Math.LN2), 1e-15, 'disjoint single values');
  });

  it('rejects empty samples and invalid bins', () => {
    assert.throws(() => jensenShannon([], [1]), DriftTestError);
    assert.throws(() => jensenShannon([1], [NaN]), DriftTestError);
    assert.throws(() => jensenShannon([1, 2], [1], 0), DriftTestError);
    assert.throws(() => jensenShannon([1, 2], [1], 2.5), DriftTestError);
  });
});

describe('category tests match scipy', () => {
  interface CategoryCase {
    name: string;
    ref: Record<string, number>;
    cur: Record<string, number>;
    chi: [number, number];
    js: number;
    linf: number;
  }
  const c5ref: Record<string, number> = {};
  const c5cur: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    c5ref[`k${i}`] = ((i * 7) % 13) + 1;
    c5cur[`k${i}`] = ((i * 5) % 11) + 2;
  }
  const cases: CategoryCase[] = [
    {
      name: 'C1: same categories, shifted shares',
      ref: { a: 50, b: 30, c: 20 },
      cur: { a: 40, b: 35, c: 25 },
      chi: [4.083333333333334, 0.12981217685543797],
      js: 0.07167825088993672,
      linf: 0.09999999999999998,
    },
    {
      // d is unseen in the reference: expected share 1e-4 / 1.0001, 10 rows observed
      name: 'C2: a category unseen in the reference',
      ref: { a: 50, b: 30, c: 20 },
      cur: { a: 40, b: 30, c: 20, d: 10 },
      chi: [9983.008199999998, 0],
      js: 0.19349646201204068,
      linf: 0.1,
    },
    {
      // a single unseen row in 10000 is no evidence of drift
      name: 'C2b: one stray unseen row',
      ref: { a: 500, b: 300, c: 200 },
      cur: { a: 5000, b: 3000, c: 1999, d: 1 },
      chi: [0.00040005000000027283, 0.9999978721642677],
      js: 0.005887581047504931,
      linf: 0.00010000000000001674,
    },
    {
      name: 'C3: disjoint categories',
      ref: { a: 10 },
      cur: { b: 5 },
      chi: [50000, 0],
      js: 0.8325546111576977,
      linf: 1,
    },
    {
      name: 'C5: 40 categories',
      ref: c5ref,
      cur: c5cur,
      chi: [542.3240344553725, 6.890793206400859e-90],
      js: 0.33099051277553404,
      linf: 0.040403001953325794,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = chiSquare(c.ref, c.cur);
      assertClose(r.statistic, c.chi[0], 1e-12, 'chi-square statistic');
      assertClose(r.pValue, c.chi[1], 1e-12, 'chi-square p-value');
      assert.equal(r.df, new Set([...Object.keys(c.ref), ...Object.keys(c.cur)]).size - 1);
      assertClose(jensenShannonCategories(c.ref, c.cur), c.js, 1e-12, 'jensen-shannon');
      assertClose(lInfinity(c.ref, c.cur), c.linf, 1e-12, 'l-infinity');
    });
  }

  it('does not depend on the order of the keys', () => {
    const ref = { c: 20, a: 50, b: 30 };
    const cur = { b: 35, c: 25, a: 40 };
    assert.deepEqual(chiSquare(ref, cur), chiSquare(cases[0].ref, cases[0].cur));
    assert.equal(jensenShannonCategories(ref, cur), jensenShannonCategories(cases[0].ref, cases[0].cur));
  });

  it('a single category: no evidence of drift', () => {
    // scipy.stats.chisquare([3], [3]) has statistic 0 and p-value NaN (df = 0); defined as 1 here.
    assert.deepEqual(chiSquare({ a: 10 }, { a: 3 }), { statistic: 0, pValue: 1, df: 0 });
    assert.equal(jensenShannonCategories({ a: 10 }, { a: 3 }), 0);
    assert.equal(lInfinity({ a: 10 }, { a: 3 }), 0);
  });

  it('ignores categories with a zero count on both sides', () => {
    assert.deepEqual(chiSquare({ a: 10, b: 0 }, { a: 3, z: 0 }), { statistic: 0, pValue: 1, df: 0 });
    assert.deepEqual(chiSquare({ ...cases[0].ref, x: 0 }, { ...cases[0].cur, y: 0 }), chiSquare(cases[0].ref, cases[0].cur));
  });

  it('identical shares give 0 / p = 1', () => {
    const r = chiSquare({ a: 2, b: 6 }, { a: 1, b: 3 });
    assert.equal(r.statistic, 0);
    assert.equal(r.pValue, 1);
    assert.equal(jensenShannonCategories({ a: 2, b: 6 }, { a: 1, b: 3 }), 0);
    assert.equal(lInfinity({ a: 2, b: 6 }, { a: 1, b: 3 }), 0);
    assert.equal(UNSEEN_CATEGORY_SHARE, 1e-4);
  });

  it('rejects empty sides and invalid counts', () => {
    assert.throws(() => chiSquare({}, { a: 1 }), DriftTestError);
    assert.throws(() => jensenShannonCategories({ a: 1 }, { a: 0 }), DriftTestError);
    assert.throws(() => lInfinity({ a: -1, b: 3 }, { a: 1 }), DriftTestError);
    assert.throws(() => chiSquare({ a: NaN }, { a: 1 }), DriftTestError);
  });
});

describe('chiSquareSf matches scipy.stats.chi2.sf', () => {
  // The error grows like eps * (df/2) ln(df/2) (the prefactor x^a e^-x / Γ(a) is formed in log space);
  // the largest measured is 1.5e-13 relative at df = 4000, so 1e-12 leaves room.
  const cases: Array<[x: number, df: number, expected: number]> = [
    [0.5, 1, 0.47950012218695337],
    [3.841458820694124, 1, 0.04999999999999989],
    [1e-10, 1, 0.9999920211543921],
    [10, 3, 0.01856613546304325],
    [0.001, 2, 0.9995001249791693],
    [80, 2, 4.248354255291595e-18],
    [50, 10, 2.669083424904495e-7],
    [0.1, 30, 1],
    [200, 150, 0.003973185970821635],
    [1500, 1000, 1.0454640385980825e-22],
    [900, 999, 0.9886211870834188],
    [2, 0.5, 0.06792113201010888],
    [700, 3, 2.0991308534204487e-151],
    [12.5, 7, 0.08526927515826925],
    [4100, 4000, 0.1321492595964944],
    [60, 1, 9.485737571073857e-15],
    [0.2, 0.5, 0.391661154271034],
    [31, 40, 0.8455079031328707],
  ];
  for (const [x, df, expected] of cases) {
    it(`sf(${x}, ${df})`, () => assertClose(chiSquareSf(x, df), expected, 1e-12, 'chi2.sf'));
  }
  it('edge values', () => {
    assert.equal(chiSquareSf(0, 3), 1);
    assert.equal(chiSquareSf(-1, 3), 1);
    assert.equal(chiSquareSf(Infinity, 3), 0);
    assert.ok(Number.isNaN(chiSquareSf(NaN, 3)));
    assert.ok(Number.isNaN(chiSquareSf(1, 0)));
  });
});

describe('featureDrift', () => {
  const ref1000 = ascending(seq(1000, G));

  it('exports the catalogue of tests', () => {
    assert.deepEqual([...DRIFT_TEST_NAMES].sort(), Object.keys(DRIFT_TESTS).sort());
    assert.equal(AUTO_TEST_MAX_ROWS, 1000);
    assert.deepEqual(
      DRIFT_TEST_NAMES.map((t) => [t, DRIFT_TESTS[t].result, DRIFT_TESTS[t].defaultThreshold]),
      [
        ['ks', 'p-value', 0.05],
        ['psi', 'distance', 0.1],
        ['wasserstein', 'distance', 0.1],
        ['jensenshannon', 'distance', 0.1],
        ['chisquare', 'p-value', 0.05],
        ['linf', 'distance', 0.1],
        ['intensity', 'distance', 0.1],
        ['blockmeans', 'p-value', 0.05],
      ],
    );
  });

  it('numeric, up to 1000 current rows: KS, drift when p < 0.05', () => {
    // scipy.stats.ks_2samp reference values from test/unit/stats.test.ts (case B)
    const a = [0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.55, 0.65, 0.8, 0.9];
    const b = [0.45, 0.95, 0.7, 0.85, 0.6, 1.2, 0.75, 0.25, 1.1, 0.5];
    const r = featureDrift({ kind: 'number', reference: a, current: b });
    assert.equal(r.test, 'ks');
    assert.equal(r.statistic, 0.5);
    assertClose(r.pValue!, 0.16782134274394334, 1e-9, 'p-value');
    assert.deepEqual({ threshold: r.threshold, drifted: r.drifted, rows: r.rows }, { threshold: 0.05, drifted: false, rows: 10 });

    const cur = seq(1000, S, 1, 0.2);
    const at1000 = featureDrift({ kind: 'number', reference: ref1000, current: cur });
    const ks = ksTwoSample(ref1000, cur);
    assert.deepEqual(at1000, { test: 'ks', statistic: ks.statistic, pValue: ks.pValue, threshold: 0.05, drifted: true, rows: 1000 });
  });

  it('numeric, beyond 1000 current rows: Wasserstein normed, drift when >= 0.1', () => {
    const cur = seq(1001, S, 1, 0.2);
    const r = featureDrift({ kind: 'number', reference: ref1000, current: cur });
    assert.deepEqual(r, { test: 'wasserstein', statistic: wassersteinNormed(ref1000, cur), threshold: 0.1, drifted: true, rows: 1001 });
    assert.ok(r.statistic > 0.5);
    // non-finite current values are not rows: 1000 finite values -> KS again
    const withNaN = featureDrift({ kind: 'number', reference: ref1000, current: [...seq(1000, S), NaN, Infinity] });
    assert.equal(withNaN.test, 'ks');
    assert.equal(withNaN.rows, 1000);
  });

  it('category, up to 1000 current rows: chi-square, drift when p < 0.05', () => {
    const ref = { a: 50, b: 30, c: 20 };
    const small = featureDrift({ kind: 'category', reference: ref, current: { a: 40, b: 35, c: 25 } });
    assert.equal(small.test, 'chisquare');
    assertClose(small.statistic, 4.083333333333334, 1e-12, 'statistic');
    assertClose(small.pValue!, 0.12981217685543797, 1e-12, 'p-value');
    assert.equal(small.drifted, false);
    assert.equal(small.rows, 100);

    const at1000 = featureDrift({ kind: 'category', reference: ref, current: { a: 400, b: 350, c: 250 } });
    assert.equal(at1000.test, 'chisquare');
    assert.equal(at1000.rows, 1000);
    assert.equal(at1000.drifted, true); // the same shift is significant with 10x the rows
  });

  it('category, beyond 1000 current rows: Jensen-Shannon, drift when >= 0.1', () => {
    const ref = { a: 50, b: 30, c: 20 };
    const cur = { a: 400, b: 350, c: 251 };
    const r = featureDrift({ kind: 'category', reference: ref, current: cur });
    assert.deepEqual(r, {
      test: 'jensenshannon',
      statistic: jensenShannonCategories(ref, cur),
      threshold: 0.1,
      drifted: false,
      rows: 1001,
    });
  });

  it('overrides the test and the threshold', () => {
    const cur = seq(500, S, 1, 0.05);
    const p = featureDrift({ kind: 'number', reference: ref1000, current: cur }, { test: 'psi' });
    assert.deepEqual(p, { test: 'psi', statistic: psi(ref1000, cur), threshold: 0.1, drifted: p.statistic >= 0.1, rows: 500 });

    const js = featureDrift({ kind: 'number', reference: ref1000, current: cur }, { test: 'jensenshannon', threshold: 0.01 });
    assert.equal(js.statistic, jensenShannon(ref1000, cur));
    assert.equal(js.threshold, 0.01);
    assert.equal(js.drifted, js.statistic >= 0.01);

    const w = featureDrift({ kind: 'number', reference: ref1000, current: cur }, { threshold: 0.5 });
    assert.equal(w.test, 'ks'); // only the threshold was overridden
    assert.equal(w.threshold, 0.5);
    assert.equal(w.drifted, w.pValue! < 0.5);

    const linf = featureDrift({ kind: 'category', reference: { a: 1, b: 1 }, current: { a: 3, b: 1 } }, { test: 'linf', threshold: 0.25 });
    // a distance equal to the threshold counts as drift
    assert.deepEqual(linf, { test: 'linf', statistic: 0.25, threshold: 0.25, drifted: true, rows: 4 });
    // 0.6 - 0.5 rounds to 0.09999999999999998 < 0.1: no drift at the default threshold
    const linfDefault = featureDrift(
      { kind: 'category', reference: { a: 50, b: 30, c: 20 }, current: { a: 40, b: 35, c: 25 } },
      { test: 'linf' },
    );
    assert.equal(linfDefault.drifted, false);
  });

  it('a p-value equal to the threshold is not drift', () => {
    const r = featureDrift({ kind: 'number', reference: [1, 2, 3], current: [3, 2, 1] }, { threshold: 1 });
    assert.equal(r.pValue, 1);
    assert.equal(r.drifted, false);
  });

  it('identical distributions do not drift under any test', () => {
    for (const test of ['ks', 'psi', 'wasserstein', 'jensenshannon'] as const) {
      const r = featureDrift({ kind: 'number', reference: ref1000, current: [...ref1000].reverse() }, { test });
      assert.equal(r.drifted, false, test);
      assert.equal(r.statistic, 0, test);
    }
    for (const test of ['chisquare', 'jensenshannon', 'linf'] as const) {
      const r = featureDrift({ kind: 'category', reference: { a: 5, b: 10 }, current: { b: 2, a: 1 } }, { test });
      assert.equal(r.drifted, false, test);
      assert.equal(r.statistic, 0, test);
    }
  });

  it('throws DriftTestError for tests that do not apply to the feature kind', () => {
    const num = { kind: 'number' as const, reference: [1, 2, 3], current: [1, 2] };
    const cat = { kind: 'category' as const, reference: { a: 1 }, current: { a: 1 } };
    for (const test of ['chisquare', 'linf'] as const) {
      assert.throws(
        () => featureDrift(num, { test }),
        (e: unknown) => e instanceof DriftTestError && /does not apply to number/.test(e.message),
      );
    }
    for (const test of ['ks', 'psi', 'wasserstein'] as const) {
      assert.throws(
        () => featureDrift(cat, { test }),
        (e: unknown) => e instanceof DriftTestError && /does not apply to category/.test(e.message),
      );
    }
    assert.throws(() => featureDrift(num, { test: 'toString' as never }), DriftTestError);
  });

  it('throws DriftTestError for empty samples and invalid thresholds', () => {
    assert.throws(
      () => featureDrift({ kind: 'number', reference: [1, 2], current: [] }),
      (e: unknown) => e instanceof DriftTestError && /current/.test(e.message),
    );
    assert.throws(
      () => featureDrift({ kind: 'number', reference: [], current: [1] }),
      (e: unknown) => e instanceof DriftTestError && /reference/.test(e.message),
    );
    assert.throws(() => featureDrift({ kind: 'number', reference: [1], current: [NaN] }), DriftTestError);
    assert.throws(() => featureDrift({ kind: 'category', reference: { a: 1 }, current: {} }), DriftTestError);
    assert.throws(() => featureDrift({ kind: 'category', reference: { a: 0 }, current: { a: 1 } }), DriftTestError);
    assert.throws(() => featureDrift({ kind: 'number', reference: [1], current: [1] }, { threshold: 1.5 }), DriftTestError);
    assert.throws(() => featureDrift({ kind: 'number', reference: [1], current: [1] }, { threshold: -0.1 }), DriftTestError);
    assert.throws(
      () => featureDrift({ kind: 'number', reference: [1], current: [1] }, { test: 'wasserstein', threshold: NaN }),
      DriftTestError,
    );
    // a distance threshold may exceed 1
    assert.equal(featureDrift({ kind: 'number', reference: [1], current: [1] }, { test: 'wasserstein', threshold: 1.5 }).drifted, false);
    const err = new DriftTestError('x');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'DriftTestError');
  });
});
