/**
 * Reading the rows of a predict request. A deployment's features are known when it is
 * installed, so each deployment gets a reader built once for them (`rowReader`): one pass per
 * row checks that every value is a JSON scalar and every feature is present, with no schema
 * library per row. Only a request that fails that check is parsed again by the zod schema,
 * which words the 400 exactly as before.
 */
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { InvalidRequestError } from '../core/errors.ts';

export const MAX_ROWS = 1000;

export type Scalar = number | string | boolean | null;
export type Row = Record<string, Scalar>;
export type RowReader = (body: unknown) => Row[];

const PredictBody = z.object({
  rows: z
    // Any JSON scalar: category features are strings, and a wrong type is logged and reported as
    // an input anomaly by monitoring rather than refused (the model encodes it as missing).
    .array(z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])))
    .min(1, 'send at least one row')
    .max(MAX_ROWS, `send at most ${MAX_ROWS} rows per request`),
});

/** The rows of `body` if every row holds only scalars and every one of `features`; else an InvalidRequestError naming each problem. */
export function rowReader(features: readonly string[]): RowReader {
  const isValidRow = (row: unknown): boolean => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return false;
    for (const key in row) {
      const value = (row as Record<string, unknown>)[key];
      if (value !== null && typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') return false;
    }
    for (const f of features) if (!(f in row)) return false;
    return true;
  };
  return (body) => {
    const rows = (body as { rows?: unknown } | null)?.rows;
    if (Array.isArray(rows) && rows.length >= 1 && rows.length <= MAX_ROWS && rows.every(isValidRow)) return rows as Row[];
    throw explain(body, features);
  };
}

/** Reads the rows of a request for a model that is not deployed: the same checks, no features. */
export const anyRows = rowReader([]);

/** The error for a body rowReader refused, in the words of the schema and then of requireFeatures. */
function explain(body: unknown, features: readonly string[]): InvalidRequestError {
  const parsed = PredictBody.safeParse(body);
  if (!parsed.success) return new InvalidRequestError(`invalid request body:\n${formatIssues(parsed.error)}`);
  return missingFeatures(parsed.data.rows, features) ?? new InvalidRequestError('invalid request body');
}

/** Every row must carry every feature (null stands for a missing value): the error naming the rows that do not. */
export function missingFeatures(rows: readonly Row[], features: readonly string[]): InvalidRequestError | undefined {
  const problems: string[] = [];
  rows.forEach((row, i) => {
    const missing = features.filter((f) => !(f in row));
    if (missing.length) problems.push(`  - rows.${i}: missing ${missing.join(', ')}`);
  });
  if (!problems.length) return undefined;
  const shown = problems.slice(0, 10);
  if (problems.length > shown.length) shown.push(`  ... and ${problems.length - shown.length} more rows`);
  return new InvalidRequestError(
    `rows lack features the model needs (${features.join(', ')}; use null for unknown values):\n${shown.join('\n')}`,
  );
}
