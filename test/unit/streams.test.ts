import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDetector, updateMany } from '../../core/drift/detectors.ts';
import { detectionReport, hyperplaneStream, SEA_THRESHOLDS, seaStream } from '../../core/drift/streams.ts';

const share = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('seaStream', () => {
  const base = { seed: 11, length: 20_000, changeEvery: 5000 };

  it('is deterministic per seed', () => {
    assert.deepEqual(seaStream(base), seaStream(base));
    assert.notDeepEqual(seaStream(base).rows.slice(0, 5), seaStream({ ...base, seed: 12 }).rows.slice(0, 5));
  });

  it('has three features in [0, 10) and change points every changeEvery', () => {
    const s = seaStream({ ...base, length: 12_001 });
    assert.equal(s.rows.length, 12_001);
    assert.equal(s.labels.length, 12_001);
    assert.deepEqual(s.changePoints, [5000, 10_000]);
    assert.ok(s.rows.every((r) => r.length === 3 && r.every((v) => v >= 0 && v < 10)));
  });

  it('labels x1 + x2 <= theta with theta cycling 8, 9, 7, 9.5 (no noise)', () => {
    assert.deepEqual([...SEA_THRESHOLDS], [8, 9, 7, 9.5]);
    const s = seaStream({ ...base, length: 25_000 }); // five concepts: the cycle wraps to 8
    for (let i = 0; i < s.labels.length; i++) {
      const theta = [8, 9, 7, 9.5][Math.floor(i / 5000) % 4];
      assert.equal(s.thetas[i], theta);
      assert.equal(s.labels[i], s.rows[i][0] + s.rows[i][1] <= theta ? 1 : 0, `row ${i}`);
    }
    // P(x1 + x2 <= theta) = theta^2 / 200 for theta <= 10: 0.32, 0.405, 0.245, 0.45125
    [0.32, 0.405, 0.245, 0.45125, 0.32].forEach((p, k) => {
      const got = share(s.labels.slice(k * 5000, (k + 1) * 5000));
      assert.ok(Math.abs(got - p) < 0.02, `concept ${k}: ${got} vs ${p}`);
    });
  });

  it('noise flips labels without moving the features', () => {
    const clean = seaStream(base);
    const noisy = seaStream({ ...base, noise: 0.1 });
    const noisier = seaStream({ ...base, noise: 0.2 });
    assert.deepEqual(noisy.rows, clean.rows);
    assert.deepEqual(noisy.thetas, clean.thetas);
    const flipped = (s: typeof clean) => s.labels.map((y, i) => (y === clean.labels[i] ? 0 : 1));
    const f1 = flipped(noisy);
    const f2 = flipped(noisier);
    assert.ok(Math.abs(share(f1) - 0.1) < 0.01, `flip share ${share(f1)}`);
    assert.ok(Math.abs(share(f2) - 0.2) < 0.01, `flip share ${share(f2)}`);
    // One uniform per row decides the flip, so more noise flips a superset of the rows.
    assert.ok(f1.every((f, i) => f === 0 || f2[i] === 1));
  });

  it('accepts custom thresholds and rejects bad options', () => {
    const s = seaStream({ seed: 1, length: 30, changeEvery: 10, thresholds: [5, 15] });
    assert.deepEqual(s.thetas, [...Array(10).fill(5), ...Array(10).fill(15), ...Array(10).fill(5)]);
    assert.ok(s.labels.every((y, i) => y === (s.rows[i][0] + s.rows[i][1] <= s.thetas[i] ? 1 : 0)));
    assert.deepEqual(s.changePoints, [10, 20]);
    assert.throws(() => seaStream({ seed: 1, length: 10, changeEvery: 0 }), RangeError);
    assert.throws(() => seaStream({ seed: 1, length: -1, changeEvery: 5 }), RangeError);
    assert.throws(() => seaStream({ seed: 1, length: 10, changeEvery: 5, noise: 1.5 }), RangeError);
    assert.throws(() => seaStream({ seed: 1, length: 10, changeEvery: 5, thresholds: [] }), RangeError);
  });
});

describe('hyperplaneStream', () => {
  const base = { seed: 5, length: 8000, changeEvery: 2000, driftLength: 500, magnitude: 0.01, noise: 0 };

  /** MOA's rule: 1 if sum w_i x_i >= sum w_i / 2. */
  const rule = (w: readonly number[], x: readonly number[]): number => {
    let s = 0;
    let t = 0;
    w.forEach((wi, j) => {
      s += wi * x[j];
      t += wi;
    });
    return s >= t * 0.5 ? 1 : 0;
  };

  it('is deterministic per seed', () => {
    assert.deepEqual(hyperplaneStream(base), hyperplaneStream(base));
    assert.notDeepEqual(hyperplaneStream(base).rows[0], hyperplaneStream({ ...base, seed: 6 }).rows[0]);
  });

  it('reports drift windows starting at the change points', () => {
    const h = hyperplaneStream(base);
    assert.deepEqual(h.changePoints, [2000, 4000, 6000]);
    assert.deepEqual(h.driftEnds, [2500, 4500, 6500]);
    assert.equal(h.weights.length, 4);
    assert.ok(h.rows.every((r) => r.length === 10 && r.every((v) => v >= 0 && v < 1)));
    // Defaults: driftLength = changeEvery / 2; a window cut by the end of the stream ends there.
    assert.deepEqual(hyperplaneStream({ seed: 1, length: 2100, changeEvery: 1000 }).driftEnds, [1500, 2100]);
  });

  it('labels by the stable hyperplane between drift windows (no noise)', () => {
    const h = hyperplaneStream(base);
    const stable = [
      [0, 2000],
      [2500, 4000],
      [4500, 6000],
      [6500, 8000],
    ];
    stable.forEach(([from, to], k) => {
      for (let i = from; i < to; i++) assert.equal(h.labels[i], rule(h.weights[k], h.rows[i]), `row ${i}`);
    });
    // Both classes stay about equally frequent (the hyperplane passes through the cube's centre).
    assert.ok(Math.abs(share(h.labels) - 0.5) < 0.03, `${share(h.labels)}`);
  });

  it('moves only the drifting weights, by at most magnitude per instance', () => {
    const h = hyperplaneStream(base);
    for (let k = 1; k < h.weights.length; k++) {
      const [before, after] = [h.weights[k - 1], h.weights[k]];
      for (let j = 0; j < 10; j++) {
        const moved = Math.abs(after[j] - before[j]);
        if (j < 2) assert.ok(moved <= 0.01 * 500 + 1e-9, `w${j} moved ${moved}`);
        else assert.equal(moved, 0, `w${j} must not drift`);
      }
    }
    assert.ok(h.weights[1][0] !== h.weights[0][0], 'a drifting weight moved');
  });

  it('a concept change shows up as errors of the old hyperplane', () => {
    const h = hyperplaneStream({ ...base, magnitude: 0.05, reverseProbability: 0.01 });
    const errors = h.rows.map((r, i) => (rule(h.weights[0], r) === h.labels[i] ? 0 : 1));
    assert.equal(share(errors.slice(0, 2000)), 0);
    assert.ok(share(errors.slice(2500, 4000)) > 0.05, `${share(errors.slice(2500, 4000))}`);
  });

  it('noise flips labels without moving features or weights', () => {
    const clean = hyperplaneStream(base);
    const noisy = hyperplaneStream({ ...base, noise: 0.05 });
    assert.deepEqual(noisy.rows, clean.rows);
    assert.deepEqual(noisy.weights, clean.weights);
    const flips = share(noisy.labels.map((y, i) => (y === clean.labels[i] ? 0 : 1)));
    assert.ok(Math.abs(flips - 0.05) < 0.01, `flip share ${flips}`);
  });

  it('rejects bad options', () => {
    assert.throws(() => hyperplaneStream({ seed: 1, length: 10, changeEvery: 5, driftLength: 6 }), RangeError);
    assert.throws(() => hyperplaneStream({ seed: 1, length: 10, changeEvery: 5, driftLength: 0 }), RangeError);
    assert.throws(() => hyperplaneStream({ seed: 1, length: 10, changeEvery: 5, driftFeatures: 11 }), RangeError);
    assert.throws(() => hyperplaneStream({ seed: 1, length: 10, changeEvery: 5, reverseProbability: -0.1 }), RangeError);
  });
});

describe('detectionReport', () => {
  it('no alarms: every change is missed', () => {
    assert.deepEqual(detectionReport([], [100, 200], 300), { delays: [null, null], falseAlarms: 0, missed: 2 });
  });

  it('first alarm after a change detects it; earlier and repeated alarms are false', () => {
    // 50: before any change; 110: detects 100 (delay 10); 120: repeat; 205: detects 200; 290: repeat
    assert.deepEqual(detectionReport([50, 110, 120, 205, 290], [100, 200], 300), {
      delays: [10, 5],
      falseAlarms: 3,
      missed: 0,
    });
  });

  it('an alarm on the change point itself has delay 0', () => {
    assert.deepEqual(detectionReport([100], [100], 300), { delays: [0], falseAlarms: 0, missed: 0 });
  });

  it('a tolerance bounds the detection window', () => {
    // windows [100, 150) and [200, 250)
    assert.deepEqual(detectionReport([150, 260], [100, 200], 300, 50), { delays: [null, null], falseAlarms: 2, missed: 2 });
    assert.deepEqual(detectionReport([149, 260], [100, 200], 300, 50), { delays: [49, null], falseAlarms: 1, missed: 1 });
    assert.deepEqual(detectionReport([150], [100, 200], 300, 51), { delays: [50, null], falseAlarms: 0, missed: 1 });
  });

  it('an alarm detects the most recent change point only', () => {
    // The change at 100 is superseded at 110 before anything fires.
    assert.deepEqual(detectionReport([115], [100, 110], 300), { delays: [null, 5], falseAlarms: 0, missed: 1 });
  });

  it('accepts unsorted alarms and duplicate change points', () => {
    assert.deepEqual(detectionReport([205, 50, 110], [200, 100, 200], 300), { delays: [10, 5], falseAlarms: 1, missed: 0 });
  });

  it('rejects indices outside the stream and bad tolerances', () => {
    assert.throws(() => detectionReport([300], [100], 300), RangeError);
    assert.throws(() => detectionReport([-1], [100], 300), RangeError);
    assert.throws(() => detectionReport([1.5], [100], 300), RangeError);
    assert.throws(() => detectionReport([1], [300], 300), RangeError);
    assert.throws(() => detectionReport([1], [100], 300, 0), RangeError);
  });

  it('scores a detector on a SEA stream end to end', () => {
    // A classifier fixed on the first concept (theta = 8) errs on 10% noise, then on the rows whose
    // x1 + x2 lies between 8 and the new theta: +8.5% (theta 9), +7.5% (theta 7), +13.1% (theta 9.5).
    const sea = seaStream({ seed: 42, length: 20_000, changeEvery: 5000, noise: 0.1 });
    const errors = sea.rows.map((r, i) => ((r[0] + r[1] <= 8 ? 1 : 0) === sea.labels[i] ? 0 : 1));
    const run = updateMany(createDetector('adwin'), errors);
    const report = detectionReport(run.alarms, sea.changePoints, errors.length);
    assert.equal(report.delays.length, 3);
    assert.equal(report.falseAlarms, 0, `alarms ${run.alarms}`);
    assert.ok(report.delays[0] !== null && report.delays[0] < 2000, `delays ${report.delays}`);
  });
});
