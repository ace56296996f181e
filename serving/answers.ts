/**
 * What a request's rows are answered with, and what is logged for them: one id per row, the
 * version and role that served it, and the model's output. Every protocol (/v1 predict, the Open
 * Inference Protocol's /v2 infer) answers from here, so predictions are served and logged the
 * same way whatever asked for them.
 */
import { predictionId } from './prediction-id.ts';
import type { Prediction, Predictor } from '../ml/bundle.ts';
import { InvalidModelOutputError } from '../core/errors.ts';
import type { PredictionLog } from '../adapters/store/index.ts';
import type { Target } from './deployments.ts';
import type { Row } from './rows.ts';

interface ServedCommon {
  id: string;
  version: string;
  role: Target['role'];
  /** Inputs served as missing (out of range, or a wrong type), naming the feature. */
  warnings?: string[];
}
export type ServedClass = ServedCommon & { label: string; probabilities: Record<string, number> };
/** A regression model's answer is its number: no classes, probabilities or confidence. */
export type ServedValue = ServedCommon & { value: number };
export type Served = ServedClass | ServedValue;

/**
 * One request's answers and log rows. Checked whole before any of it is logged: a request is
 * served and logged whole or not at all.
 */
export function answer(
  model: string,
  target: Target,
  rows: Row[],
  outputs: Prediction[],
  rangeWarnings: Map<number, string[]>,
): { answers: Served[]; logged: PredictionLog[] } {
  const { version, role, predictor, features } = target;
  const task = predictor.task;
  outputs.forEach((o, i) => requireFiniteOutput(o, task, model, version, i));
  const answers: Served[] = [];
  const logged: PredictionLog[] = [];
  // A plain loop and no spreads: this runs for every row served.
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i];
    const id = predictionId();
    const rowWarnings = warningsOf(rangeWarnings.get(i), o.warnings);
    const row = rows[i];
    const logFeatures: Row = {};
    for (const f of features) logFeatures[f] = row[f];
    if (task === 'regression') {
      const value = o.value!;
      const served: ServedValue = { id, value, version, role };
      if (rowWarnings) served.warnings = rowWarnings;
      answers.push(served);
      logged.push({ id, model, version, role, task, features: logFeatures, label: String(value), probabilities: {}, confidence: null });
    } else {
      const served: ServedClass = { id, label: o.label, probabilities: o.probabilities, version, role };
      if (rowWarnings) served.warnings = rowWarnings;
      answers.push(served);
      const confidence = o.probabilities[o.label];
      logged.push({ id, model, version, role, task, features: logFeatures, label: o.label, probabilities: o.probabilities, confidence });
    }
  }
  return { answers, logged };
}

function warningsOf(range: string[] | undefined, model: string[] | undefined): string[] | undefined {
  if (!range?.length && !model?.length) return undefined;
  return [...(range ?? []), ...(model ?? [])];
}

/**
 * Inputs the model cannot compute with are caught before it (guardInputRange), so a non-finite
 * output (weights that diverged to NaN) is a broken model: better a 500 than serving and logging it.
 */
function requireFiniteOutput(output: Prediction, task: Predictor['task'], model: string, version: string, row: number): void {
  if (task === 'regression') {
    if (typeof output.value !== 'number' || !Number.isFinite(output.value))
      throw new InvalidModelOutputError(model, version, row, String(output.value));
    return;
  }
  const bad = Object.entries(output.probabilities).find(([, p]) => !Number.isFinite(p));
  if (bad) throw new InvalidModelOutputError(model, version, row, `probability ${String(bad[1])} for class ${bad[0]}`);
}
