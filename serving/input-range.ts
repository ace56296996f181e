/**
 * Numbers too far out for the model to compute with. The network runs in float32: a finite input
 * such as 1e39 (or 1e37 times a weight) overflows to Infinity and the output becomes NaN. Such a
 * value is an input anomaly like a wrong type: the model sees it as missing (imputed with the
 * training mean), the response warns about it, and the log keeps the value as sent, so monitoring
 * counts it (out of the training range).
 */
import { parseNumeric } from '../core/validation.ts';
import type { Preprocessor } from '../ml/preprocess.ts';

/**
 * Standard deviations from the training mean beyond which a number is refused as input. Far
 * beyond any real observation, and small enough that weights of any sane model cannot carry
 * the activations past float32's 3.4e38.
 */
export const MAX_STANDARD_SCORE = 1e6;

export interface GuardedRows {
  /** The rows the model sees: out-of-range numbers replaced by null (missing). */
  rows: Array<Record<string, unknown>>;
  /** Per row index, one message per replaced value, naming the feature. */
  warnings: Map<number, string[]>;
}

export function guardInputRange(rows: ReadonlyArray<Record<string, unknown>>, preprocessor: Preprocessor): GuardedRows {
  const warnings = new Map<number, string[]>();
  const numeric = preprocessor.encodings.filter((e) => e.type === 'number');
  const guarded = rows.map((row, i) => {
    let copy: Record<string, unknown> | undefined;
    for (const e of numeric) {
      const parsed = parseNumeric(row[e.name]);
      if (parsed.kind !== 'number') continue;
      const std = e.std > 0 ? e.std : 1;
      if (Math.abs((parsed.value - e.mean) / std) <= MAX_STANDARD_SCORE) continue;
      copy ??= { ...row };
      copy[e.name] = null;
      const message = `${e.name}: ${JSON.stringify(row[e.name])} is out of range (more than ${MAX_STANDARD_SCORE} standard deviations from the training mean); treated as missing`;
      warnings.set(i, [...(warnings.get(i) ?? []), message]);
    }
    return copy ?? row;
  });
  return { rows: guarded, warnings };
}
