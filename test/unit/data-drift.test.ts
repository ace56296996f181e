import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  categoryHistogram,
  dataDrift,
  DEFAULT_HISTOGRAM_BINS,
  featureColumns,
  numericHistogram,
  OTHER_CATEGORY,
  type FeatureColumns,
  type FeatureDataDrift,
  type FeatureProfileLike,
} from '../../core/drift/data-drift.ts';
import { AUTO_TEST_MAX_ROWS, type DriftTestName } from '../../core/drift/catalogue.ts';
import { featureDrift, numericDriftSorted } from '../../core/drift/feature-drift.ts';
import { ksTwoSample, ksTwoSampleSorted } from '../../core/stats/ks.ts';
import { sampleSorted } from '../../core/stats/quantiles.ts';
import { derive } from '../../core/stats/rng.ts';
import { RADIX_MIN_LENGTH, sortFinite } from '../../core/stats/sort.ts';

// ---------------------------------------------------------------------------------------------
// deterministic data

function normals(seed: number, n: number, mean = 0, std = 1): number[] {
  const rng = derive(seed);
  return Array.from({ length: n }, () => mean + std * rng.normal());
}

/** A profile sample as ml/bundle.ts saves it: up to 1000 evenly spaced order statistics. */
function numericProfile(values: number[]): FeatureProfileLike {
  return { sample: sampleSorted(values, 1000) };
}

function counts(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** n category values with the given shares, in a deterministic interleaved order. */
function categories(n: number, shares: Record<string, number>): string[] {
  const out: string[] = [];
  const keys = Object.keys(shares);
  const quota = keys.map((k) => Math.round(shares[k] * n));
  for (let i = 0; out.length < n; i++) {
    const k = i % keys.length;
    if (quota[k] > 0) {
      out.push(keys[k]);
      quota[k]--;
    } else if (quota.every((q) => q === 0)) out.push(keys[0]);
  }
  return out;
}

function numberColumn(values: number[], missing = 0): FeatureColumns[string] {
  return { kind: 'number', values: Float64Array.from(values), missing };
}

function find(report: { features: FeatureDataDrift[] }, name: string): FeatureDataDrift {
  const f = report.features.find((x) => x.name === name);
  assert.ok(f, `feature ${name} in the report`);
  return f;
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

// ---------------------------------------------------------------------------------------------

describe('featureColumns', () => {
  it('reads numbers, numeric strings, missing and non-numeric cells in one pass', () => {
    const rows: Record<string, unknown>[] = [
      { x: 1.5, c: 'a' },
      { x: '12.8', c: 'b' },
      { x: ' 3 ', c: 3 },
      { x: undefined, c: null },
      { x: null, c: '' },
      { x: '', c: '  ' },
      { x: NaN, c: 'a' },
      { x: 'abc', c: 'a' },
      { x: true, c: 'b' },
      { x: Infinity },
      { x: '0x10', c: '3' },
      { x: '-2e3', c: 'a ' },
      { c: 'a' },
    ];
    const columns = featureColumns(rows, [
      { name: 'x', type: 'number' },
      { name: 'c', type: 'category' },
    ]);
    const x = columns.x;
    assert.equal(x.kind, 'number');
    assert.ok(x.kind === 'number' && x.values instanceof Float64Array);
    assert.deepEqual(x.kind === 'number' && Array.from(x.values), [1.5, 12.8, 3, -2000]);
    // missing counts every row without a finite value: missing, blank, NaN, non-numeric, Infinity
    assert.equal(x.missing, rows.length - 4);
    // category keys as ml/preprocess.ts categoryKey: numbers as decimal strings, no trimming
    assert.deepEqual(columns.c, { kind: 'category', counts: { a: 4, b: 2, '3': 2, 'a ': 1 }, missing: 4 });
  });

  it('takes a feature without a type as numeric and keeps the features order', () => {
    const columns = featureColumns(
      [
        { a: 1, b: 'u' },
        { a: 2, b: 'v' },
      ],
      [{ name: 'b', type: 'category' }, { name: 'a' }],
    );
    assert.deepEqual(Object.keys(columns), ['b', 'a']);
    assert.equal(columns.a.kind, 'number');
  });

  it('keeps a category named __proto__ as an ordinary count', () => {
    const columns = featureColumns([{ c: '__proto__' }, { c: '__proto__' }], [{ name: 'c', type: 'category' }]);
    assert.ok(columns.c.kind === 'category' && Object.prototype.hasOwnProperty.call(columns.c.counts, '__proto__'));
    assert.equal(columns.c.kind === 'category' && columns.c.counts['__proto__'], 2);
  });

  it('rejects duplicate feature names', () => {
    assert.throws(() => featureColumns([], [{ name: 'x' }, { name: 'x', type: 'category' }]), RangeError);
  });
});

describe('dataDrift', () => {
  const n = 5000;
  const profile = {
    features: {
      stable: numericProfile(normals(1, 20_000)),
      shifted: numericProfile(normals(2, 20_000)),
      color: { kind: 'category' as const, counts: counts(categories(20_000, { red: 0.5, green: 0.3, blue: 0.2 })) },
      shape: { kind: 'category' as const, counts: counts(categories(20_000, { round: 0.5, square: 0.5 })) },
    },
  };
  const columns: FeatureColumns = {
    stable: numberColumn(normals(11, n), 7),
    shifted: numberColumn(normals(12, n, 0.5)),
    color: { kind: 'category', counts: counts(categories(n, { red: 0.5, green: 0.3, blue: 0.2 })), missing: 3 },
    shape: { kind: 'category', counts: counts(categories(n, { round: 0.2, square: 0.5, star: 0.3 })), missing: 0 },
  };

  it('flags the drifted features and not the stable ones (automatic choice beyond 1000 rows)', () => {
    const report = dataDrift({ columns, profile });
    assert.equal(report.rows, n + 7);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(
      report.features.map((f) => [f.name, f.kind, f.test, f.drifted]),
      [
        ['stable', 'number', 'wasserstein', false],
        ['shifted', 'number', 'wasserstein', true],
        ['color', 'category', 'jensenshannon', false],
        ['shape', 'category', 'jensenshannon', true],
      ],
    );
    assert.deepEqual(report.drifted, ['shifted', 'shape']);
    assert.equal(report.driftedShare, 0.5);
    const stable = find(report, 'stable');
    assert.ok(stable.statistic < 0.05, `stable wasserstein ${stable.statistic}`);
    assert.equal(stable.rows, n);
    assert.equal(stable.missing, 7);
    assert.equal(stable.threshold, 0.1);
    assert.equal(stable.pValue, undefined);
    assert.ok(!('pValue' in stable), 'distance tests carry no pValue key');
    const shifted = find(report, 'shifted');
    assert.ok(shifted.statistic > 0.4 && shifted.statistic < 0.6, `shifted wasserstein ${shifted.statistic}`);
    assert.equal(find(report, 'color').missing, 3);
    assert.equal(find(report, 'color').rows, n);
  });

  it('gives the per-feature results of featureDrift', () => {
    const report = dataDrift({ columns, profile });
    for (const name of ['stable', 'shifted'] as const) {
      const column = columns[name];
      assert.ok(column.kind === 'number');
      const expected = featureDrift({
        kind: 'number',
        reference: profile.features[name].sample as number[],
        current: Array.from(column.values),
      });
      const { test, statistic, threshold, drifted, rows } = find(report, name);
      assert.deepEqual({ test, statistic, threshold, drifted, rows }, expected);
    }
    for (const name of ['color', 'shape'] as const) {
      const column = columns[name];
      assert.ok(column.kind === 'category');
      const expected = featureDrift({ kind: 'category', reference: profile.features[name].counts, current: column.counts });
      const { test, statistic, threshold, drifted, rows } = find(report, name);
      assert.deepEqual({ test, statistic, threshold, drifted, rows }, expected);
    }
  });

  it('uses KS and chi-square up to 1000 current rows and Wasserstein / Jensen-Shannon beyond', () => {
    const at = (rows: number) =>
      dataDrift({
        columns: {
          stable: numberColumn(normals(21, rows)),
          color: { kind: 'category', counts: counts(categories(rows, { red: 0.5, green: 0.3, blue: 0.2 })), missing: 0 },
        },
        profile,
      });
    const small = at(AUTO_TEST_MAX_ROWS);
    assert.deepEqual(
      small.features.map((f) => f.test),
      ['ks', 'chisquare'],
    );
    assert.ok(small.features.every((f) => typeof f.pValue === 'number' && f.threshold === 0.05));
    const large = at(AUTO_TEST_MAX_ROWS + 1);
    assert.deepEqual(
      large.features.map((f) => f.test),
      ['wasserstein', 'jensenshannon'],
    );
    // the profile's other features have no column here
    assert.deepEqual(
      large.skipped.map((s) => s.name),
      ['shifted', 'shape'],
    );
  });

  it('applies a per-feature override of the test and the threshold', () => {
    const report = dataDrift({
      columns,
      profile,
      choices: {
        stable: { test: 'ks' },
        shifted: { threshold: 0.6 },
        color: { test: 'chisquare', threshold: 0.01 },
        unrelated: { test: 'psi' },
      },
    });
    const stable = find(report, 'stable');
    assert.equal(stable.test, 'ks');
    assert.equal(stable.threshold, 0.05);
    assert.ok(typeof stable.pValue === 'number' && stable.pValue > 0.05, `stable KS p ${stable.pValue}`);
    assert.equal(stable.drifted, false);
    const shifted = find(report, 'shifted');
    assert.deepEqual([shifted.test, shifted.threshold, shifted.drifted], ['wasserstein', 0.6, false]);
    const color = find(report, 'color');
    assert.deepEqual([color.test, color.threshold], ['chisquare', 0.01]);
    assert.ok(typeof color.pValue === 'number' && color.pValue > 0.01);
    assert.equal(find(report, 'shape').test, 'jensenshannon');
    assert.deepEqual(report.drifted, ['shape']);
  });

  it('skips features it cannot test, with a reason, instead of failing', () => {
    const report = dataDrift({
      columns: {
        stable: numberColumn([], 40),
        shifted: numberColumn(normals(31, 50)),
        color: { kind: 'category', counts: {}, missing: 40 },
        shape: numberColumn([1, 2, 3]),
        extra: numberColumn([1, 2, 3]),
        empty: numberColumn([1, 2, 3]),
        wrong: { kind: 'category', counts: { a: 3 }, missing: 0 },
      },
      profile: { features: { ...profile.features, empty: { sample: [] }, wrong: numericProfile([1, 2]) } },
      choices: { shifted: { test: 'chisquare' } },
    });
    assert.deepEqual(report.features, []);
    assert.deepEqual(report.drifted, []);
    assert.equal(report.driftedShare, 0);
    assert.equal(report.rows, 50);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.name, s.reason]));
    assert.deepEqual(Object.keys(reasons), ['stable', 'shifted', 'color', 'shape', 'extra', 'empty', 'wrong']);
    assert.match(reasons.stable, /no numeric values in the current data \(40 missing\)/);
    assert.match(reasons.shifted, /'chisquare' test does not apply to number features/);
    assert.match(reasons.color, /no category values in the current data \(40 missing\)/);
    assert.match(reasons.shape, /reference profile is a category feature, the current data numeric/);
    assert.match(reasons.extra, /no reference profile/);
    assert.match(reasons.empty, /reference profile has no numeric values/);
    assert.match(reasons.wrong, /reference profile is numeric/);
    // and a profile feature without a column
    const partial = dataDrift({ columns: { stable: columns.stable }, profile });
    assert.deepEqual(partial.skipped, [
      { name: 'shifted', reason: 'not in the current data' },
      { name: 'color', reason: 'not in the current data' },
      { name: 'shape', reason: 'not in the current data' },
    ]);
  });

  it('leaves the columns as they are', () => {
    const values = Float64Array.from(normals(41, 3000));
    const copy = values.slice();
    dataDrift({ columns: { stable: { kind: 'number', values, missing: 0 } }, profile });
    assert.deepEqual(values, copy);
  });

  it('adds histograms whose shares sum to 1 on each side', () => {
    const report = dataDrift({ columns, profile });
    for (const f of report.features) {
      assert.ok(Math.abs(sum(f.histogram.reference) - 1) < 1e-12, `${f.name} reference shares`);
      assert.ok(Math.abs(sum(f.histogram.current) - 1) < 1e-12, `${f.name} current shares`);
    }
    const stable = find(report, 'stable');
    assert.ok(stable.kind === 'number');
    const { edges } = stable.histogram;
    assert.equal(edges.length, DEFAULT_HISTOGRAM_BINS + 1);
    const ref = profile.features.stable.sample as number[];
    const cur = columns.stable.kind === 'number' ? Array.from(columns.stable.values) : [];
    assert.equal(edges[0], Math.min(ref[0], ...cur));
    assert.equal(edges[edges.length - 1], Math.max(ref[ref.length - 1], ...cur));
    for (let i = 1; i < edges.length; i++) assert.ok(edges[i] > edges[i - 1]);
    const shape = find(report, 'shape');
    assert.ok(shape.kind === 'category');
    assert.deepEqual(shape.histogram, { categories: ['square', 'round', 'star'], reference: [0.5, 0.5, 0], current: [0.5, 0.2, 0.3] });
    assert.equal(dataDrift({ columns, profile, histogramBins: 7 }).features[0].histogram.reference.length, 7);
    assert.throws(() => dataDrift({ columns, profile, histogramBins: 0 }), RangeError);
  });
});

describe('histograms', () => {
  it('numeric: numpy histogram semantics ([e_i, e_i+1), the last bin closed)', () => {
    const ref = Float64Array.from([0, 1, 2, 3, 4]);
    const cur = Float64Array.from([2, 4, 4, 6, 8, 10]);
    const h = numericHistogram(ref, cur, 5);
    assert.deepEqual(h.edges, [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(h.reference, [2 / 5, 2 / 5, 1 / 5, 0, 0]);
    assert.deepEqual(h.current, [0, 1 / 6, 2 / 6, 1 / 6, 2 / 6]);
    // a single value on both sides: numpy's [v - 0.5, v + 0.5]
    const one = numericHistogram(Float64Array.from([3]), Float64Array.from([3, 3]), 2);
    assert.deepEqual(one, { edges: [2.5, 3, 3.5], reference: [0, 1], current: [0, 1] });
  });

  it('numeric: agrees with a direct count on random data', () => {
    const ref = Float64Array.from(sampleSorted(normals(51, 4000), 1000));
    const cur = sortFinite(Float64Array.from(normals(52, 30_000, 0.3, 1.2)));
    const h = numericHistogram(ref, cur, 20);
    const direct = (xs: Float64Array) => {
      const c = new Array<number>(20).fill(0);
      for (const v of xs) {
        let bin = 19;
        for (let i = 0; i < 20; i++) {
          if (v >= h.edges[i] && v < h.edges[i + 1]) {
            bin = i;
            break;
          }
        }
        c[bin]++;
      }
      return c.map((x) => x / xs.length);
    };
    assert.deepEqual(h.reference, direct(ref));
    assert.deepEqual(h.current, direct(cur));
  });

  it('category: the top categories by combined share, then (other)', () => {
    const ref: Record<string, number> = {};
    const cur: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      ref[`k${String(i).padStart(2, '0')}`] = 30 - i;
      cur[`k${String(i).padStart(2, '0')}`] = i < 25 ? 30 - i : 0;
    }
    cur.fresh = 100;
    const h = categoryHistogram(ref, cur);
    assert.equal(h.categories.length, 21);
    assert.equal(h.categories[0], 'fresh');
    assert.equal(h.categories[1], 'k00');
    assert.equal(h.categories[20], OTHER_CATEGORY);
    assert.ok(Math.abs(sum(h.reference) - 1) < 1e-12);
    assert.ok(Math.abs(sum(h.current) - 1) < 1e-12);
    // ties by name, and no (other) when everything fits
    assert.deepEqual(categoryHistogram({ b: 1, a: 1 }, { a: 1, b: 1 }), {
      categories: ['a', 'b'],
      reference: [0.5, 0.5],
      current: [0.5, 0.5],
    });
  });
});

describe('sorted fast paths', () => {
  it('sortFinite equals Float64Array.prototype.sort on the finite values, short and long', () => {
    const rng = derive(61);
    for (const n of [0, 1, 17, RADIX_MIN_LENGTH - 1, RADIX_MIN_LENGTH, 100_000]) {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const u = rng.uniform();
        // normals, ties, signed zeros, tiny and huge magnitudes, and a few non-finite values
        values[i] =
          u < 0.5
            ? rng.normal() * 10
            : u < 0.6
              ? Math.round(rng.normal())
              : u < 0.65
                ? u < 0.625
                  ? -0
                  : 0
                : u < 0.7
                  ? rng.normal() * 1e-300
                  : u < 0.75
                    ? -rng.uniform() * 1e300
                    : u < 0.76
                      ? NaN
                      : u < 0.77
                        ? -Infinity
                        : rng.normal() * 1e6;
      }
      const expected = values.filter((v) => Number.isFinite(v)).sort();
      const sorted = sortFinite(values);
      assert.equal(sorted.length, expected.length);
      for (let i = 0; i < sorted.length; i++)
        assert.ok(Object.is(sorted[i], expected[i]), `n=${n} index ${i}: ${sorted[i]} vs ${expected[i]}`);
    }
    // values sharing the high digits (the radix passes for them are skipped)
    const narrow = Float64Array.from({ length: 50_000 }, (_, i) => 1000 + ((i * 7919) % 50_000) / 1e6);
    assert.deepEqual(sortFinite(narrow), narrow.slice().sort());
    const constant = new Float64Array(RADIX_MIN_LENGTH * 2).fill(-3.5);
    assert.deepEqual(sortFinite(constant), constant);
  });

  it('sortFinite: high-word sort, full sort and the insertion fallback all give the built-in order', () => {
    const same = (values: Float64Array) => {
      const expected = values.slice().sort();
      const sorted = sortFinite(values);
      for (let i = 0; i < sorted.length; i++) if (!Object.is(sorted[i], expected[i])) return `index ${i}: ${sorted[i]} vs ${expected[i]}`;
      return 'same';
    };
    const rng = derive(62);
    const n = 1 << 16;
    // spread out (the high words nearly order them), negative and positive
    assert.equal(same(Float64Array.from({ length: n }, () => rng.normal() * 3)), 'same');
    // a large offset against a small spread (many values share a high word), and integers
    assert.equal(same(Float64Array.from({ length: n }, () => 1.7e9 + rng.uniform() * 1000)), 'same');
    assert.equal(same(Float64Array.from({ length: n }, () => Math.round(rng.normal() * 4))), 'same');
    // a tight cluster hidden from the evenly spaced probe (every 64th value is spread out):
    // the high-word sort is chosen and its insertion pass gives up
    const hidden = Float64Array.from({ length: n }, (_, i) => (i % 64 === 0 ? rng.normal() * 100 : 5 + rng.uniform() * 1e-9));
    assert.equal(same(hidden), 'same');
  });

  it('ksTwoSampleSorted matches ksTwoSample, exact and asymptotic', () => {
    const ref = Float64Array.from(sampleSorted(normals(71, 5000), 1000));
    for (const [n, shift] of [
      [800, 0],
      [12_000, 0],
      [12_000, 0.05],
      [50_000, 0.2],
    ] as const) {
      const cur = sortFinite(Float64Array.from(normals(72 + n, n, shift)));
      assert.deepEqual(ksTwoSampleSorted(ref, cur), ksTwoSample(ref, cur));
      assert.deepEqual(ksTwoSampleSorted(cur, ref), ksTwoSample(cur, ref));
    }
    // identical samples (D = 0, not -0) in both orders
    const twin = sortFinite(Float64Array.from(normals(79, 12_000)));
    assert.deepEqual(ksTwoSampleSorted(twin, twin.slice(0, 11_000)), ksTwoSample(twin, twin.slice(0, 11_000)));
    assert.deepEqual(ksTwoSampleSorted(twin, twin), ksTwoSample(twin, twin));
    // ties across the samples
    const a = sortFinite(Float64Array.from(normals(81, 20_000), (v) => Math.round(v * 2)));
    const b = sortFinite(Float64Array.from(normals(82, 15_000, 0.1), (v) => Math.round(v * 2)));
    assert.deepEqual(ksTwoSampleSorted(a, b), ksTwoSample(a, b));
  });

  it('numericDriftSorted gives featureDrift results bit for bit, for every numeric test', () => {
    const ref = sampleSorted(normals(91, 8000), 1000);
    const cases: Array<[number[], string]> = [
      [normals(92, 700, 0.1), 'small'],
      [normals(93, 15_000, 0.1, 1.1), 'large'],
      [normals(94, 3000).map((v) => Math.round(v)), 'discrete'],
    ];
    for (const [current, label] of cases) {
      const cur = sortFinite(Float64Array.from(current));
      const reference = label === 'discrete' ? ref.map((v) => Math.round(v)) : ref;
      const refSorted = Float64Array.from(reference);
      for (const test of [undefined, 'ks', 'psi', 'wasserstein', 'jensenshannon'] as Array<DriftTestName | undefined>) {
        const choice = test ? { test } : {};
        assert.deepEqual(
          numericDriftSorted(refSorted, cur, choice),
          featureDrift({ kind: 'number', reference, current }, choice),
          `${label} ${test ?? 'auto'}`,
        );
      }
    }
  });

  it('numericDriftSorted rejects unsorted or non-finite samples', () => {
    const ok = Float64Array.from([1, 2, 3]);
    assert.throws(() => numericDriftSorted(Float64Array.from([2, 1]), ok), RangeError);
    assert.throws(() => numericDriftSorted(ok, Float64Array.from([1, NaN])), RangeError);
    assert.throws(() => numericDriftSorted(ok, Float64Array.from([1, Infinity])), RangeError);
  });
});
