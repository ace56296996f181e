import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { ModelConfig } from '../../core/search-space.ts';
import { loadTf, type Tf } from '../../ml/backend.ts';
import { decodeJson, evaluate, loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial, type TrainInput } from '../../ml/train.ts';
import type { ReferenceProfile } from '../../core/profile.ts';

/*
 * Regression: miles per gallon from horsepower, weight, acceleration and displacement, the 392
 * rows of vega-datasets' cars.json with all five values. Every 5th row (index % 5 === 4) is
 * validation (78 rows), the rest training (314). Reference, scikit-learn 1.9.1 on the same split
 * (.venv): LinearRegression val RMSE 4.069, MAE 3.116; predicting the training mean, RMSE 7.58.
 * The linear family ("softmax": one dense layer, here one linear unit) should come close to the
 * least-squares fit: the bar is 10% above it.
 */
const FEATURES = ['Horsepower', 'Weight_in_lbs', 'Acceleration', 'Displacement'];
const OLS_RMSE = 4.069;
const MEAN_RMSE = 7.58;
const LINEAR: ModelConfig = { family: 'softmax', params: {} };

function loadCars() {
  const path = new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url);
  const cars = (JSON.parse(readFileSync(path, 'utf8')) as Array<Record<string, number | null>>).filter(
    (c) => c.Miles_per_Gallon !== null && FEATURES.every((f) => c[f] !== null),
  );
  const part = (keep: (i: number) => boolean) => {
    const rows = cars.filter((_, i) => keep(i));
    return {
      rows: rows.map((c) => Object.fromEntries(FEATURES.map((f) => [f, c[f]]))),
      labels: rows.map((c) => String(c.Miles_per_Gallon)),
    };
  };
  return { train: part((i) => i % 5 !== 4), validation: part((i) => i % 5 === 4) };
}

describe('regression models', () => {
  let tf: Tf;
  const data = loadCars();
  const input = (over: Partial<TrainInput> = {}): TrainInput => ({
    config: LINEAR,
    features: FEATURES,
    classes: [],
    labelType: 'number',
    ...data,
    seed: 3,
    fromEpoch: 0,
    toEpoch: 60,
    ...over,
  });
  before(async () => {
    ({ tf } = await loadTf('wasm'));
  });

  it('learns a linear unit close to the least-squares fit, and serves numbers', async () => {
    assert.equal(data.validation.rows.length, 78);
    const result = await trainTrial(input(), undefined, { tf });
    assert.ok(result.valRmse! < OLS_RMSE * 1.1, `val RMSE ${result.valRmse} vs least squares ${OLS_RMSE}`);
    assert.ok(Number.isNaN(result.valAccuracy) && Number.isNaN(result.valLogLoss), 'no classification metrics');
    assert.ok(result.history.every((e) => Number.isNaN(e.accuracy) && Math.abs(e.valLoss - e.valRmse! ** 2) < 1e-6 * e.valLoss));
    assert.ok(result.history.at(-1)!.valRmse! < result.history[0].valRmse!, 'training lowers the error');

    const predictor = await loadPredictor(servingFiles(result.checkpoint), { tf });
    try {
      assert.equal(predictor.task, 'regression');
      assert.deepEqual(predictor.classes, []);
      const [first] = predictor.predict([data.validation.rows[0]]);
      assert.equal(typeof first.value, 'number');
      assert.equal(first.label, String(first.value));
      assert.deepEqual(first.probabilities, {});
      // evaluate() agrees with the validation metrics of the last epoch, recomputed by hand.
      const scores = evaluate(predictor, data.validation.rows, data.validation.labels);
      const values = predictor.probabilities(data.validation.rows);
      const truth = data.validation.labels.map(Number);
      const rmse = Math.sqrt(truth.reduce((a, t, i) => a + (t - values[i]) ** 2, 0) / truth.length);
      assert.ok(Math.abs(scores.rmse! - rmse) < 1e-9 && Math.abs(scores.rmse! - result.valRmse!) < 1e-4);
      assert.ok(scores.r2! > 1 - (OLS_RMSE * 1.1) ** 2 / MEAN_RMSE ** 2 - 0.05, `R^2 ${scores.r2}`);
      assert.ok(scores.mae! < scores.rmse!);
    } finally {
      predictor.dispose();
    }
  });

  it('profiles the labels as a number and records the training error quantile', async () => {
    const result = await trainTrial(input({ toEpoch: 20 }), undefined, { tf });
    const profile = decodeJson<ReferenceProfile>(result.checkpoint['profile.json']);
    assert.deepEqual(profile.classCounts, {});
    const mpg = data.train.labels.map(Number);
    assert.equal(profile.target!.n, 314);
    assert.equal(profile.target!.min, Math.min(...mpg));
    assert.equal(profile.target!.max, Math.max(...mpg));
    // About 90% of the training rows are within errorThreshold of their prediction.
    const predictor = await loadPredictor(servingFiles(result.checkpoint), { tf });
    try {
      const p = predictor.probabilities(data.train.rows);
      const within = mpg.filter((t, i) => Math.abs(t - p[i]) <= profile.errorThreshold!).length / mpg.length;
      assert.ok(within >= 0.9 && within < 0.92, `share within the threshold ${within}`);
    } finally {
      predictor.dispose();
    }
  });

  it('resumes from a rung checkpoint exactly, and an mlp trains too', async () => {
    const whole = await trainTrial(input({ toEpoch: 8 }), undefined, { tf });
    const first = await trainTrial(input({ toEpoch: 4 }), undefined, { tf });
    const second = await trainTrial(input({ fromEpoch: 4, toEpoch: 8, checkpoint: first.checkpoint }), undefined, { tf });
    assert.deepEqual(second.checkpoint['weights.bin'], whole.checkpoint['weights.bin']);
    const mlp = await trainTrial(input({ config: { family: 'mlp', params: { learningRate: 0.01 } }, toEpoch: 40 }), undefined, { tf });
    assert.ok(mlp.valRmse! < MEAN_RMSE / 1.5, `mlp val RMSE ${mlp.valRmse}`);
  });

  it('refuses a label that is not a number, naming the row', async () => {
    const bad = { rows: data.train.rows.slice(0, 3), labels: ['18', 'fast', '20'] };
    await assert.rejects(trainTrial(input({ train: bad }), undefined, { tf }), /Label "fast" \(row 2\) is not a number/);
  });
});
