/**
 * Permutation importance of real trained models (ml/explain/permutation-importance.ts
 * predictorImportance): a cnn on the 8x8 digits shuffles whole images (its pixels are one
 * feature), and a regression model's loss is the RMSE it gains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { predictorImportance } from '../../ml/explain/permutation-importance.ts';
import { featuresOf, weatherRows } from '../helpers/local-models.ts';

const PIXELS = Array.from({ length: 64 }, (_, i) => `p${i}`);

test('a cnn loses accuracy when its images are shuffled between rows, as one feature', async () => {
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/digits.json', import.meta.url), 'utf8')) as {
    images: string[];
    labels: number[];
  };
  const rows = fixture.images.map((s) => Object.fromEntries([...s].map((c, p) => [PIXELS[p], parseInt(c, 17)])));
  const labels = fixture.labels.map(String);
  const { checkpoint } = await trainTrial({
    config: { family: 'cnn', params: { filters: 4, dense: 16, learningRate: 0.01 } },
    features: PIXELS,
    classes: [...'0123456789'],
    image: { height: 8, width: 8, channels: 1 },
    train: { rows: rows.slice(0, 400), labels: labels.slice(0, 400) },
    validation: { rows: rows.slice(400, 430), labels: labels.slice(400, 430) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 3,
  });
  const predictor = await loadPredictor(servingFiles(checkpoint));
  try {
    const result = predictorImportance(predictor, rows.slice(400, 700), labels.slice(400, 700), { repeats: 2, seed: 1 });
    assert.equal(result.metric, 'accuracy');
    assert.deepEqual(
      result.features.map((f) => f.feature),
      ['image'],
    );
    console.log(`cnn: baseline accuracy ${result.baseline.toFixed(3)}, shuffled images lose ${result.features[0].mean.toFixed(3)}`);
    assert.ok(result.baseline > 0.3, `baseline ${result.baseline}`);
    // Shuffled images are right only by chance (~10%).
    assert.ok(result.features[0].mean > result.baseline - 0.25, `lost ${result.features[0].mean} of ${result.baseline}`);
  } finally {
    predictor.dispose();
  }
});

test("a regression model's importance is the RMSE it gains", async () => {
  const weather = weatherRows().slice(0, 600);
  const inputs = ['precipitation', 'temp_min', 'wind'];
  const part = (rows: typeof weather) => ({ rows: rows.map((r) => featuresOf(r, inputs)), labels: rows.map((r) => String(r.temp_max)) });
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: inputs,
    classes: [],
    labelType: 'number',
    train: part(weather.slice(0, 400)),
    validation: part(weather.slice(400, 440)),
    seed: 1,
    fromEpoch: 0,
    toEpoch: 10,
  });
  const predictor = await loadPredictor(servingFiles(checkpoint));
  try {
    const holdout = part(weather.slice(440));
    const result = predictorImportance(predictor, holdout.rows, holdout.labels, { repeats: 3, seed: 1 });
    assert.equal(result.metric, 'rmse');
    const gained = Object.fromEntries(result.features.map((f) => [f.feature, f.mean]));
    console.log(`temp_max from the others: RMSE ${result.baseline.toFixed(2)}, gained when shuffled ${JSON.stringify(gained)}`);
    // temp_min carries most of temp_max.
    assert.ok(gained.temp_min > 2, `temp_min: ${gained.temp_min}`);
    assert.ok(gained.temp_min > gained.wind && gained.temp_min > gained.precipitation);
  } finally {
    predictor.dispose();
  }
});
