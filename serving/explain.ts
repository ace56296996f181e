/**
 * `POST /v1/models/:model/explain`: per-feature attributions of the model's output for each row
 * sent (ml/explain/explain.ts: exact Tree SHAP for a tree model, sampled Shapley values with
 * standard errors for the networks). It explains the champion, not a routing draw: the champion
 * answers most traffic, and the same rows get the same explanation from one call to the next;
 * `version` names another served version (the canary) instead. Explanations are not predictions:
 * nothing is logged.
 *
 * Bounded, since it runs on the serving thread: at most MAX_EXPLAIN_ROWS rows and MAX_SAMPLES
 * samples, and at most MAX_MODEL_ROWS rows put to the model per request (a model with many
 * features gets fewer samples; the 400 says how many).
 */
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { InvalidRequestError } from '../core/errors.ts';
import { parseNumeric } from '../core/validation.ts';
import type { Preprocessor } from '../ml/preprocess.ts';
import { BACKGROUND_ROWS, explainRows, explanationCost, type Explanation } from '../ml/explain/explain.ts';
import type { LiveDeployments, Target } from './deployments.ts';
import { guardInputRange } from './input-range.ts';
import { missingFeatures, type Row } from './rows.ts';

export const MAX_EXPLAIN_ROWS = 10;
export const DEFAULT_SAMPLES = 128;
export const MAX_SAMPLES = 2048;
/** Model rows one request may cost: about 0.4 s of a small network on the serving thread (10 weather rows x 833 samples). */
export const MAX_MODEL_ROWS = 50_000;

const ExplainBody = z.strictObject({
  rows: z
    .array(z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])))
    .min(1, 'send at least one row')
    .max(MAX_EXPLAIN_ROWS, `send at most ${MAX_EXPLAIN_ROWS} rows per explain request`),
  samples: z.number().int('a whole number').min(2, 'at least 2').max(MAX_SAMPLES, `at most ${MAX_SAMPLES}`).default(DEFAULT_SAMPLES),
  output: z.string().min(1, 'a class name').optional(),
  version: z
    .string()
    .regex(/^[1-9]\d*$/, 'a registered version number such as "3"')
    .optional(),
});

export interface ExplainAnswer {
  model: string;
  version: string;
  role: Target['role'];
  method: Explanation['method'];
  /** Sampled Shapley: the samples per row and where the background came from. */
  samples?: number;
  background?: { rows: number; from: string };
  note?: string;
  explanations: Array<Explanation & { warnings?: string[] }>;
}

export function explain(deployments: LiveDeployments, model: string, body: unknown): ExplainAnswer {
  const parsed = ExplainBody.safeParse(body);
  if (!parsed.success) throw new InvalidRequestError(`invalid request body:\n${formatIssues(parsed.error)}`);
  const { rows, samples, output, version } = parsed.data;
  const target = version === undefined ? deployments.targets(model)[0] : deployments.target(model, version);
  const { predictor } = target;
  const missing = missingFeatures(rows as Row[], predictor.features);
  if (missing) throw missing;
  if (output !== undefined && predictor.task === 'regression')
    throw new InvalidRequestError('invalid request body:\n  - output: a regression model has one output, its value; leave output out');
  if (output !== undefined && !predictor.classes.includes(output))
    throw new InvalidRequestError(
      `invalid request body:\n  - output: ${JSON.stringify(output)} is not a class of ${model} v${target.version} (${predictor.classes.join(', ')})`,
    );
  const cost = explanationCost(predictor);
  const modelRows = rows.length * samples * cost.rowsPerSample;
  if (modelRows > MAX_MODEL_ROWS)
    throw new InvalidRequestError(
      `invalid request body:\n  - samples: at most ${Math.floor(MAX_MODEL_ROWS / (rows.length * cost.rowsPerSample))} for ${rows.length} row(s) of this model ` +
        `(each sample puts ${cost.rowsPerSample} rows to the model per row explained; a request may put ${MAX_MODEL_ROWS})`,
    );
  // As for predictions: a number feature's value that is not a number, or a number too far out to
  // compute with, is treated as missing, with a warning.
  const warnings = new Map<number, string[]>();
  const guarded = guardInputRange(withoutInvalidNumbers(rows, predictor.preprocessor, warnings), predictor.preprocessor);
  for (const [i, messages] of guarded.warnings) warnings.set(i, [...(warnings.get(i) ?? []), ...messages]);
  const explanations = explainRows(predictor, guarded.rows, { output, samples });
  const sampled = cost.method === 'sampled-shapley';
  return {
    model,
    version: target.version,
    role: target.role,
    method: cost.method,
    ...(sampled && { samples, background: { rows: BACKGROUND_ROWS, from: 'profile.json, each feature drawn independently' } }),
    ...(cost.note && { note: cost.note }),
    explanations: explanations.map((e, i) => (warnings.has(i) ? { ...e, warnings: warnings.get(i) } : e)),
  };
}

/** The rows with each number feature's non-numeric value replaced by null, in the words of a prediction's warning. */
function withoutInvalidNumbers(rows: readonly Row[], pre: Preprocessor, warnings: Map<number, string[]>): Row[] {
  const numeric = pre.encodings.filter((e) => e.type === 'number').map((e) => e.name);
  return rows.map((row, i) => {
    const invalid = numeric.filter((f) => parseNumeric(row[f]).kind === 'invalid');
    if (!invalid.length) return row;
    warnings.set(
      i,
      invalid.map((f) => `${f}: ${JSON.stringify(row[f])} is not a number; treated as missing`),
    );
    return { ...row, ...Object.fromEntries(invalid.map((f) => [f, null])) };
  });
}
