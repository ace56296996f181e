import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectAnomalies, EXAMPLE_MAX_CHARS, exampleValue, type AnomalyFeatureSpec } from '../../core/drift/anomalies.ts';
import { categoryKey } from '../../ml/preprocess.ts';
import type { FeatureProfile, ReferenceProfile } from '../../core/profile.ts';

function numeric(min: number, max: number, n = 100): FeatureProfile {
  return { n, missing: 0, mean: (min + max) / 2, std: 1, min, max, sample: [min, max] };
}

function category(counts: Record<string, number>): FeatureProfile {
  const n = Object.values(counts).reduce((s, c) => s + c, 0);
  return { kind: 'category', n, missing: 0, counts, mean: 0, std: 0, min: 0, max: 0, sample: [] };
}

// A real ReferenceProfile (type-checked as one), so the module's structural types accept it.
const profile: ReferenceProfile = {
  version: 1,
  rows: 100,
  features: {
    age: numeric(18, 90),
    income: numeric(0, 250_000),
    color: category({ red: 50, blue: 45, '3': 5 }),
    score: numeric(0, 0, 0), // no numeric value in training: no range to check
  },
  classCounts: { yes: 60, no: 40 },
};

const features: AnomalyFeatureSpec[] = [
  { name: 'age', type: 'number' },
  { name: 'income', type: 'number' },
  { name: 'color', type: 'category' },
  { name: 'city', type: 'category' }, // not in the profile
  { name: 'score', type: 'number' },
];

const rows = [
  /* 0 */ { age: 30, income: '52000.5', color: 'red', city: 'Paris', score: 1 }, // clean; numeric string accepted
  /* 1 */ { age: '35.5', income: 1e9, color: 'purple', city: null, score: 2 }, // income out of range, unseen color, missing city
  /* 2 */ { age: 'abc', income: true, color: 3, city: 'Lyon', score: 3 }, // wrong types; color 3 is the known "3"
  /* 3 */ { age: null, income: '', color: '  ', city: 'Rome', score: NaN }, // all missing (blank string, NaN)
  /* 4 */ {}, // every feature missing
  /* 5 */ { age: Infinity, income: { v: 1 }, color: { x: 1 }, city: 'Nice', score: 4 }, // wrong types
  /* 6 */ { age: 90, income: 0, color: 'blue', city: 'Paris', score: -1e6 }, // clean: range ends are inside
  /* 7 */ { age: 17.999, income: 20_000, color: 'constructor', city: 'x', score: 5 }, // age out of range, unseen color
  /* 8 */ { age: '1e2', income: ' 42 ', color: 'red', city: 'y', score: 6, extra: 'ignored' }, // "1e2" = 100 > 90
];

describe('detectAnomalies', () => {
  const r = detectAnomalies(rows, features, profile);

  it('counts each kind per feature', () => {
    const counts = Object.fromEntries(
      Object.entries(r.features).map(([f, a]) => [f, [a.missing, a.wrongType, a.outOfRange, a.unseenCategory]]),
    );
    assert.deepEqual(counts, {
      //        missing, wrongType, outOfRange, unseenCategory
      age: [2, 2, 2, 0],
      income: [2, 2, 1, 0],
      color: [2, 1, 0, 2],
      city: [2, 0, 0, 0],
      score: [2, 0, 0, 0],
    });
  });

  it('keeps row index and value as examples', () => {
    assert.deepEqual(r.features.age.examples, {
      missing: [
        { row: 3, value: null },
        { row: 4, value: undefined },
      ],
      wrongType: [
        { row: 2, value: 'abc' },
        { row: 5, value: Infinity },
      ],
      outOfRange: [
        { row: 7, value: 17.999 },
        { row: 8, value: '1e2' },
      ],
      unseenCategory: [],
    });
    assert.deepEqual(r.features.income.examples.wrongType, [
      { row: 2, value: true },
      { row: 5, value: '{"v":1}' },
    ]);
    assert.deepEqual(r.features.income.examples.outOfRange, [{ row: 1, value: 1e9 }]);
    assert.deepEqual(r.features.color.examples.unseenCategory, [
      { row: 1, value: 'purple' },
      { row: 7, value: 'constructor' },
    ]);
    assert.deepEqual(r.features.color.examples.wrongType, [{ row: 5, value: '{"x":1}' }]);
    assert.deepEqual(r.features.color.examples.missing, [
      { row: 3, value: '  ' },
      { row: 4, value: undefined },
    ]);
  });

  it('rows with any anomaly, and the features without a profile', () => {
    assert.equal(r.rows, 9);
    assert.equal(r.anomalousRows, 7); // all but rows 0 and 6
    assert.equal(r.anomalyRate, 7 / 9);
    assert.deepEqual(r.unprofiled, ['city']);
  });

  it('at most maxExamples examples per kind, counts unaffected', () => {
    const many = Array.from({ length: 10 }, () => ({ age: 'n/a' }));
    const a = detectAnomalies(many, [{ name: 'age', type: 'number' }], profile);
    assert.equal(a.features.age.wrongType, 10);
    assert.deepEqual(
      a.features.age.examples.wrongType.map((e) => e.row),
      [0, 1, 2],
    );
    const none = detectAnomalies(many, [{ name: 'age', type: 'number' }], profile, { maxExamples: 0 });
    assert.deepEqual(none.features.age.examples.wrongType, []);
    assert.equal(none.anomalyRate, 1);
    assert.throws(() => detectAnomalies(many, [], profile, { maxExamples: -1 }), RangeError);
  });

  it('an empty window has rate NaN; a row that is not an object is all missing', () => {
    const empty = detectAnomalies([], features, profile);
    assert.equal(empty.anomalousRows, 0);
    assert.ok(Number.isNaN(empty.anomalyRate));
    const odd = detectAnomalies([null as unknown as Record<string, unknown>], [{ name: 'age', type: 'number' }], profile);
    assert.equal(odd.features.age.missing, 1);
  });

  it('category keys are ml/preprocess.ts categoryKey: every training value is seen again', () => {
    const raw: unknown[] = ['red', 3, 2.5, true, 'Ünïcode', ' padded '];
    const counts: Record<string, number> = {};
    for (const v of raw) counts[categoryKey(v)!] = 1;
    const p = { features: { c: category(counts) } };
    const a = detectAnomalies(
      raw.map((c) => ({ c })),
      [{ name: 'c', type: 'category' }],
      p,
    );
    assert.equal(a.anomalousRows, 0);
    // and what categoryKey treats as absent is missing
    const absent: unknown[] = [undefined, null, '', '   '];
    for (const v of absent) assert.equal(categoryKey(v), undefined);
    assert.equal(
      detectAnomalies(
        absent.map((c) => ({ c })),
        [{ name: 'c', type: 'category' }],
        p,
      ).features.c.missing,
      absent.length,
    );
  });

  it('a category feature without counts in its profile only checks missing / wrong type', () => {
    const p = { features: { c: { n: 0, min: 0, max: 0 } } };
    const a = detectAnomalies([{ c: 'anything' }, { c: [1] }], [{ name: 'c', type: 'category' }], p);
    assert.deepEqual([a.features.c.unseenCategory, a.features.c.wrongType], [0, 1]);
  });
});

describe('exampleValue', () => {
  it('keeps primitives, shortens long strings and serialises objects', () => {
    assert.equal(exampleValue(12.5), 12.5);
    assert.equal(exampleValue(null), null);
    assert.equal(exampleValue(undefined), undefined);
    const long = 'x'.repeat(200);
    assert.equal(exampleValue(long), `${'x'.repeat(EXAMPLE_MAX_CHARS)}…`);
    assert.equal(exampleValue([1, 2]), '[1,2]');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(exampleValue(cyclic), '[object Object]');
    assert.equal(exampleValue(10n), '10');
  });
});
