import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../core/stats/rng.ts';
import { findColumnBins, nextUp } from '../../ml/gbdt/bins.ts';
import {
  boost,
  decodeBooster,
  encodeBooster,
  GBDT_DEFAULTS,
  gainImportance,
  GbdtInputError,
  predictOutput,
  predictRaw,
  startBooster,
  type GbdtParams,
  type TrainingSet,
} from '../../ml/gbdt/booster.ts';

/** Rows of nColumns uniform values in [-1, 1); the target is `label` of the row. */
function rows(nRows: number, nColumns: number, seed: number, label: (row: Float32Array) => number, nClasses = 0): TrainingSet {
  const random = mulberry32(seed);
  const x = new Float32Array(nRows * nColumns);
  const target = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) {
    for (let c = 0; c < nColumns; c++) x[i * nColumns + c] = random() * 2 - 1;
    target[i] = label(x.subarray(i * nColumns, (i + 1) * nColumns));
  }
  return { x, nRows, nColumns, target, nClasses };
}

const params = (over: Partial<GbdtParams> = {}): GbdtParams => ({ ...GBDT_DEFAULTS, ...over });

describe('gbdt booster', () => {
  it('continues exactly: 30 rounds, encode, decode, 60 more = 90 rounds at once (bagging and column sampling on)', () => {
    const data = rows(600, 5, 1, (r) => (r[0] + r[1] * r[2] > 0.3 ? 2 : r[3] > 0 ? 1 : 0), 3);
    // A new bag every 4 rounds, so the resume at round 30 falls inside a bag's period.
    const p = params({ numLeaves: 7, minDataInLeaf: 10, baggingFraction: 0.8, baggingFreq: 4, featureFraction: 0.6 });
    const start = startBooster(data, p, 42);
    const straight = boost(start, data, 90);
    const rounds: number[] = [];
    const resumed = boost(decodeBooster(encodeBooster(boost(start, data, 30))), data, 60, (r) => rounds.push(r));
    assert.deepEqual(
      rounds,
      Array.from({ length: 60 }, (_, i) => 31 + i),
    );
    assert.equal(resumed.rounds, 90);
    assert.deepEqual(encodeBooster(resumed), encodeBooster(straight));
    assert.deepEqual(predictRaw(resumed.ensemble, data.x, data.nRows), predictRaw(straight.ensemble, data.x, data.nRows));
    // boost leaves the state it was given as it was.
    assert.equal(start.rounds, 0);
    assert.deepEqual(
      start.ensemble.trees.map((t) => t.length),
      [0, 0, 0],
    );
  });

  it('encodes and decodes a booster exactly, and refuses bytes that are not one', () => {
    const data = rows(300, 3, 2, (r) => r[0] * 3 + r[1]);
    data.x[0] = NaN;
    const state = boost(startBooster(data, params({ minDataInLeaf: 5, lambdaL1: 0.1 }), 7), data, 12);
    const bytes = encodeBooster(state);
    const decoded = decodeBooster(bytes);
    assert.deepEqual(decoded, state);
    assert.deepEqual(encodeBooster(decoded), bytes);
    assert.deepEqual(decodeBooster(bytes.slice()).bins[0].upper, state.bins[0].upper);
    assert.throws(() => decodeBooster(bytes.subarray(0, bytes.length - 3)), /gbdt state: truncated arrays/);
    assert.throws(
      () => decodeBooster(new TextEncoder().encode('{"not":"a booster"}')),
      (err: Error) => err instanceof GbdtInputError && /bad magic/.test(err.message),
    );
  });

  it('names the bad parameter or training field', () => {
    const data = rows(50, 2, 3, (r) => r[0]);
    const bad = (over: object) => () => startBooster(data, { ...GBDT_DEFAULTS, ...over } as GbdtParams, 1);
    assert.throws(bad({ numLeaves: 1 }), { name: 'GbdtInputError', message: 'gbdt.numLeaves must be an integer >= 2, got 1' });
    assert.throws(bad({ learningRate: 0 }), { message: 'gbdt.learningRate must be a finite number > 0, got 0' });
    assert.throws(bad({ featureFraction: 1.5 }), { message: 'gbdt.featureFraction must be a number in (0, 1], got 1.5' });
    assert.throws(bad({ maxBins: 70000 }), { message: 'gbdt.maxBins must be an integer in [2, 65535], got 70000' });
    assert.throws(bad({ growth: 'levelwise' }), { message: `gbdt.growth must be 'leafwise' or 'depthwise', got "levelwise"` });
    assert.throws(bad({ growth: 'depthwise' }), {
      message: "gbdt.maxDepth must be an integer >= 1 when gbdt.growth is 'depthwise', got 0",
    });
    assert.throws(bad({ numLeaves: 200000 }), { message: 'gbdt.numLeaves must be at most 131072, got 200000' });
    assert.throws(bad({ numLeavs: 8 }), /^GbdtInputError: gbdt.numLeavs is not a gbdt parameter/);
    assert.throws(() => startBooster({ ...data, nClasses: 2 }, GBDT_DEFAULTS, 1), {
      message: /^gbdt training set: target\[0\] must be a class index in 0..1, got -?0\.\d+/,
    });
    assert.throws(() => startBooster({ ...data, nRows: 49 }, GBDT_DEFAULTS, 1), {
      message: 'gbdt training set: x has 100 values, expected nRows * nColumns = 98',
    });
    const state = startBooster(data, GBDT_DEFAULTS, 1);
    assert.throws(
      () =>
        boost(
          state,
          rows(60, 2, 3, (r) => r[0]),
          1,
        ),
      { message: /^gbdt training set: 60 rows x 2 columns, 0 classes, but the booster was started on 50 x 2/ },
    );
    assert.throws(() => boost(state, data, 1.5), { message: 'gbdt rounds must be an integer >= 0, got 1.5' });
  });

  it('gives the informative column the gain', () => {
    const data = rows(1000, 4, 4, (r) => (r[2] > 0.1 ? 1 : 0), 2);
    const state = boost(startBooster(data, GBDT_DEFAULTS, 1), data, 20);
    const importance = gainImportance(state.ensemble);
    const others = importance.filter((_, f) => f !== 2);
    assert.ok(importance[2] > 20 * Math.max(...others), `importance ${Array.from(importance).join(', ')}`);
    const p = predictOutput(state.ensemble, Float32Array.of(0, 0, 0.5, 0, 0, 0, -0.5, 0), 2);
    assert.ok(p[0] > 0.9 && p[1] < 0.1, `P(positive) ${p[0]}, ${p[1]}`);
  });

  it('routes NaN to the side its rows belong with, and NaN in a column that had none like 0', () => {
    // Column 0: NaN rows have target 5, the others x0 (in [-1, 1)); column 1 has no NaN in training.
    const data = rows(800, 2, 5, (r) => r[0]);
    for (let i = 0; i < data.nRows; i += 4) {
      data.x[i * 2] = NaN;
      data.target[i] = 5;
    }
    const state = boost(startBooster(data, params({ minDataInLeaf: 5 }), 1), data, 40);
    const root = state.ensemble.trees[0][0];
    assert.equal(root.feature[0], 0);
    // The first split isolates the NaN rows (all above every value): NaN goes right, nothing else does.
    assert.equal(root.missingLeft[0], 0);
    const [nanRow, low, high] = predictRaw(state.ensemble, Float32Array.of(NaN, 0, -0.9, 0, 0.9, 0), 3);
    assert.ok(Math.abs(nanRow - 5) < 0.1, `NaN row predicted ${nanRow}`);
    assert.ok(Math.abs(low + 0.9) < 0.15 && Math.abs(high - 0.9) < 0.15, `${low}, ${high}`);
    // Column 1 never saw NaN: NaN there is read as 0.
    // 0 lies left of the split on column 1 (at about 0.3), so NaN must go left too.
    const wide = rows(400, 2, 6, (r) => (r[1] > 0.3 ? 1 : 0) + r[0]);
    const onCol1 = boost(startBooster(wide, params({ minDataInLeaf: 5 }), 1), wide, 10);
    const [asNan, asZero, asHigh] = predictRaw(onCol1.ensemble, Float32Array.of(0.5, NaN, 0.5, 0, 0.5, 0.9), 3);
    assert.equal(asNan, asZero);
    assert.ok(asHigh - asNan > 0.5, `${asNan} vs ${asHigh}`);
  });

  it('bins like LightGBM: a bin per distinct value, boundaries just above midpoints, zero on its own, NaN last', () => {
    const bins = findColumnBins(Float64Array.of(2, 1, 2, 3), 255);
    assert.deepEqual(Array.from(bins.upper), [1e-35, nextUp(1.5), nextUp(2.5), Infinity]);
    assert.equal(bins.nanBin, false);
    const signed = findColumnBins(Float64Array.of(-1, 0, 2, NaN, -1), 255);
    assert.deepEqual(Array.from(signed.upper), [-1e-35, 1e-35, Infinity]);
    assert.equal(signed.nanBin, true);
    // More distinct values than bins: boundaries at about equal counts.
    const many = findColumnBins(
      Float64Array.from({ length: 1000 }, (_, i) => i + 1),
      5,
    );
    assert.deepEqual(Array.from(many.upper), [1e-35, nextUp(250.5), nextUp(500.5), nextUp(750.5), Infinity]);
  });
});
