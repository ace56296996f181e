/**
 * The gbdt family as training, checkpoints and the bundle see it (ml/gbdt/trial.ts,
 * ml/gbdt/model-files.ts): rungs that boost on exactly, the same four files as a network, a
 * category feature, missing numbers, a regression label, and a warm start that boosts on from a
 * champion's trees with new rows.
 *
 * Data: the Seattle rows of vega-datasets' weather.csv, 2012-2013 (731 days), every 5th day
 * validation (146 rows), as in test/ml/train.test.ts, whose networks reach 0.774 (softmax) and
 * 0.801 (mlp) validation accuracy; majority class 0.473. scikit-learn 1.9.1
 * HistGradientBoostingClassifier (defaults, month as a categorical feature, random_state 0) on the
 * same split: 0.801.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GBDT_ROUNDS_PER_EPOCH, type ModelConfig } from '../../core/search-space.ts';
import { evaluate, loadPredictor, MODEL_JSON, servingFiles, WEIGHTS_BIN } from '../../ml/bundle.ts';
import { resolveConfig } from '../../ml/model.ts';
import { trainTrial, type TrainInput } from '../../ml/train.ts';
import { weatherData } from '../../stack/demo.ts';

const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const GBDT: ModelConfig = { family: 'gbdt', params: { numLeaves: 15, learningRate: 0.1, minDataInLeaf: 10 } };

/** Seattle 2012-2013 (the demo's first training data), with the month as a category. */
function weather() {
  const records = weatherData().seed;
  const rows: Array<Record<string, unknown>> = records.map((r) => ({
    ...Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])])),
    month: String(r.date).slice(5, 7),
  }));
  const labels = records.map((r) => String(r.weather));
  const pick = <T>(xs: T[], validation: boolean) => xs.filter((_, i) => (i % 5 === 4) === validation);
  return {
    train: { rows: pick(rows, false), labels: pick(labels, false) },
    validation: { rows: pick(rows, true), labels: pick(labels, true) },
  };
}

const data = weather();
function input(over: Partial<TrainInput> = {}): TrainInput {
  return {
    config: GBDT,
    features: [
      ...FEATURES,
      { name: 'month', type: 'category', values: ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'] },
    ],
    classes: CLASSES,
    train: data.train,
    validation: data.validation,
    seed: 7,
    fromEpoch: 0,
    toEpoch: 9,
    ...over,
  };
}

describe('gbdt trials', () => {
  it('boost by rungs exactly: 0 -> 3 -> 9 grows the trees of 0 -> 9', async () => {
    const whole = await trainTrial(input());
    const first = await trainTrial(input({ toEpoch: 3 }));
    const rest = await trainTrial(input({ fromEpoch: 3, toEpoch: 9, checkpoint: first.checkpoint }));
    assert.deepEqual(rest.checkpoint[WEIGHTS_BIN], whole.checkpoint[WEIGHTS_BIN]);
    assert.deepEqual([...first.history, ...rest.history], whole.history);
    assert.equal(whole.backend, 'js');
    assert.equal(JSON.parse(new TextDecoder().decode(whole.checkpoint[MODEL_JSON])).rounds, 9 * GBDT_ROUNDS_PER_EPOCH);
    assert.ok(whole.valAccuracy >= 0.74, `validation accuracy ${whole.valAccuracy}`);
    console.log(
      `gbdt on weather: validation accuracy ${whole.valAccuracy.toFixed(3)}, ${whole.paramCount} nodes, ${whole.trainMs.toFixed(0)} ms`,
    );
  });

  it('save the four bundle files, which predict like training measured at the best round, missing numbers included', async () => {
    const result = await trainTrial(input());
    const { rounds, bestRounds } = JSON.parse(new TextDecoder().decode(result.checkpoint[MODEL_JSON]));
    assert.ok(bestRounds < rounds, `best round ${bestRounds} of ${rounds}: weather overfits by then`);
    const predictor = await loadPredictor(servingFiles(result.checkpoint));
    const scored = evaluate(predictor, data.validation.rows, data.validation.labels);
    assert.ok(Math.abs(scored.accuracy - result.valAccuracy) < 1e-12);
    assert.ok(Math.abs(scored.logLoss - result.valLogLoss) < 1e-6);
    assert.equal(predictor.ensemble?.nOutputs, CLASSES.length);
    assert.equal(predictor.ensemble?.trees.flat().length, bestRounds * CLASSES.length);
    const [missing] = predictor.predict([{ temp_max: 12, wind: 'calm' }]);
    assert.ok(CLASSES.includes(missing.label));
    assert.ok(Math.abs(Object.values(missing.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.deepEqual(missing.warnings, ['wind: "calm" is not a number; treated as missing']);
  });

  it('learn a regression label in its own units', async () => {
    const target = (rows: Array<Record<string, unknown>>) => rows.map((r) => String(r.temp_max));
    const result = await trainTrial(
      input({
        features: ['precipitation', 'temp_min', 'wind'],
        classes: [],
        labelType: 'number',
        train: { rows: data.train.rows, labels: target(data.train.rows) },
        validation: { rows: data.validation.rows, labels: target(data.validation.rows) },
      }),
    );
    const truth = data.validation.rows.map((r) => Number(r.temp_max));
    const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
    const std = Math.sqrt(truth.reduce((a, b) => a + (b - mean) ** 2, 0) / truth.length);
    assert.ok(result.valRmse! < 0.6 * std, `RMSE ${result.valRmse} vs label std ${std}`);
    const predictor = await loadPredictor(servingFiles(result.checkpoint));
    assert.equal(predictor.task, 'regression');
    assert.ok(Math.abs(evaluate(predictor, data.validation.rows, target(data.validation.rows)).rmse! - result.valRmse!) < 1e-4);
  });

  it('warm-start from a champion by boosting on with new rows, on its encoding', async () => {
    const champion = await trainTrial(input({ toEpoch: 3 }));
    const onward = await trainTrial(
      input({ toEpoch: 2, warmStart: servingFiles(champion.checkpoint), train: data.validation, validation: data.train }),
    );
    const modelJson = (files: typeof champion.checkpoint) => JSON.parse(new TextDecoder().decode(files[MODEL_JSON]));
    // The champion serves its best round; boosting goes on from there, not from the trees after it.
    assert.equal(modelJson(onward.checkpoint).rounds, modelJson(champion.checkpoint).bestRounds + 2 * GBDT_ROUNDS_PER_EPOCH);
  });

  it('refuse bad hyperparameters, naming them', () => {
    assert.throws(() => resolveConfig({ family: 'gbdt', params: { numLeaves: 1 } }), /gbdt\.numLeaves must be an integer >= 2, got 1/);
    assert.throws(
      () => resolveConfig({ family: 'gbdt', params: { growth: 'sideways' } }),
      /gbdt\.growth must be 'leafwise' or 'depthwise', got "sideways"/,
    );
    assert.throws(() => resolveConfig({ family: 'gbdt', params: { batchSize: 32 } }), /gbdt has no hyperparameter "batchSize"/);
    assert.throws(
      () => resolveConfig({ family: 'gbdt', params: { featureFraction: 0 } }),
      /gbdt\.featureFraction must be a number in \(0, 1\], got 0/,
    );
  });
});
