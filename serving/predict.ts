/**
 * Serving one request's rows: the predictor the routing picked, the input-range guard, the finite
 * output check, and the log. Every protocol (/v1 predict, the Open Inference Protocol's /v2 infer)
 * comes through here, so predictions are served and logged the same way whatever asked for them.
 */
import { randomUUID } from 'node:crypto';
import type { Prediction, Predictor } from '../ml/bundle.ts';
import type { Target } from './deployments.ts';
import { InvalidModelOutputError } from '../core/errors.ts';
import { guardInputRange } from './input-range.ts';
import type { Store } from '../adapters/store/index.ts';

/** Rows per request, for every protocol. */
export const MAX_ROWS = 1000;

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
 * Predicts `rows` with the picked target and logs them before returning (one transaction): what
 * is answered is in the log. Synchronous on purpose: between the routing draw and the log no
 * other request can swap the predictor out and dispose it. Rows must carry the target's features.
 */
export function predictAndLog(store: Store, model: string, target: Target, rows: Array<Record<string, unknown>>): Served[] {
  const { version, role, predictor } = target;
  const task = predictor.task;
  const guarded = guardInputRange(rows, predictor.preprocessor);
  const outputs = predictor.predict(guarded.rows);
  // Checked for the whole batch before any of it is logged: a batch is served and logged whole or not at all.
  outputs.forEach((o, i) => requireFiniteOutput(o, task, model, version, i));
  const served = outputs.map((o, i) => {
    const id = randomUUID();
    const rowWarnings = [...(guarded.warnings.get(i) ?? []), ...(o.warnings ?? [])];
    const warnings = rowWarnings.length ? { warnings: rowWarnings } : {};
    const logged = { id, model, version, role, task, features: Object.fromEntries(target.features.map((f) => [f, rows[i][f]])) };
    if (task === 'regression') {
      const value = o.value!;
      return {
        response: { id, value, version, role, ...warnings } satisfies ServedValue,
        log: { ...logged, label: String(value), probabilities: {}, confidence: null },
      };
    }
    return {
      response: { id, label: o.label, probabilities: o.probabilities, version, role, ...warnings } satisfies ServedClass,
      log: { ...logged, label: o.label, probabilities: o.probabilities, confidence: o.probabilities[o.label] },
    };
  });
  store.logPredictions(served.map((s) => s.log));
  return served.map((s) => s.response);
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
