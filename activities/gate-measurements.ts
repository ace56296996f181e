/**
 * What the evaluation gates measure on a loaded model: scores on labelled rows (whole sets and
 * subsets of them, from one prediction pass), parameter count and serialized size, and the
 * latency of predicting a fixed batch.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GateScores } from '../core/gates/thresholds.ts';
import type { ModelSize } from '../core/gates/size.ts';
import type { ModelFiles } from '../core/contracts.ts';
import { decodeJson, MODEL_JSON, scoreProbabilities, scoreValues, WEIGHTS_BIN, type Predictor } from '../ml/bundle.ts';
import type { Row } from './data.ts';

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);

/** One model's outputs on labelled rows, scored as a whole or on any subset of the rows. */
export class ScoredPredictions {
  private readonly outputs: Float32Array;
  private readonly width: number;

  constructor(
    private readonly predictor: Predictor,
    rows: readonly Row[],
    private readonly labels: readonly string[],
  ) {
    this.outputs = predictor.probabilities(rows);
    this.width = predictor.task === 'regression' ? 1 : predictor.classes.length;
  }

  /** A classifier's accuracy and log loss, a regression model's RMSE and MAE; on `indices` when given. */
  scores(indices?: readonly number[]): GateScores {
    const picked = indices ?? this.labels.map((_, i) => i);
    const outputs = new Float32Array(picked.length * this.width);
    picked.forEach((row, i) => outputs.set(this.outputs.subarray(row * this.width, (row + 1) * this.width), i * this.width));
    const labels = picked.map((i) => this.labels[i]);
    if (this.predictor.task === 'regression') {
      const e = scoreValues(outputs, labels);
      return { rmse: finite(e.rmse), mae: finite(e.mae) };
    }
    const e = scoreProbabilities(outputs, this.predictor.classes, labels);
    return { accuracy: finite(e.accuracy), log_loss: finite(e.logLoss) };
  }
}

/** Parameters (the weights' element count) and bytes (topology JSON plus weights) of a saved model. */
export function modelSize(files: ModelFiles): ModelSize {
  const modelJson = decodeJson<{ weightsManifest: Array<{ weights: Array<{ shape: number[] }> }> }>(files[MODEL_JSON]);
  const params = modelJson.weightsManifest.flatMap((group) => group.weights).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return { params, bytes: files[MODEL_JSON].byteLength + files[WEIGHTS_BIN].byteLength };
}

const WARM_UP = 3;

/**
 * Milliseconds per prediction of `batch`, `repeats` times after warm-up, for each model. The
 * models take turns (and alternate who goes first), so a burst of load on the machine falls on
 * both alike; between turns the event loop runs, so the activity keeps heartbeating.
 */
export async function timePredictions(
  batch: readonly Row[],
  repeats: number,
  models: { challenger: Predictor; champion?: Predictor },
): Promise<{ challenger: number[]; champion?: number[] }> {
  const contenders = models.champion ? [models.challenger, models.champion] : [models.challenger];
  for (const model of contenders) for (let i = 0; i < WARM_UP; i++) model.predict(batch);
  const timings = contenders.map(() => [] as number[]);
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    for (const i of order) {
      const start = performance.now();
      contenders[i].predict(batch);
      timings[i].push(performance.now() - start);
    }
    await nextTurn();
  }
  return { challenger: timings[0], ...(models.champion ? { champion: timings[1] } : {}) };
}
