/** Predictions as the model server logs them, for tests of the store: a classifier's (weather) and a regression model's (house). */
import type { PredictionLog } from '../../adapters/store/index.ts';

const CLASSES = ['rain', 'sun'];

export function prediction(id: string, label: string, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'weather',
    version: '1',
    role: 'champion',
    features: { temp_max: 10, wind: null },
    label,
    confidence: 0.7,
    probabilities: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.7 : 0.3])),
    ...extra,
  };
}

/** A regression model's prediction as the server logs it: the number as text, no probabilities, no confidence. */
export function valuePrediction(id: string, value: number, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'house',
    version: '1',
    role: 'champion',
    task: 'regression',
    features: { rooms: 3 },
    label: String(value),
    confidence: null,
    probabilities: {},
    ...extra,
  };
}
