/**
 * `GET /v1/models/:model/log` (admin token): the model's logged predictions (served and shadow),
 * each with its inputs, output and feedback, streamed from the store a page at a time as NDJSON
 * or CSV, in seq order.
 *
 * - `since`: a prediction seq (the predictions after it, so the last seq of one export resumes
 *   the next) or an ISO time with its zone, or a date (the predictions made at or after it).
 *   Absent: the whole log.
 * - `format=csv|ndjson`, else the Accept header (`text/csv` asks for CSV), else NDJSON, which
 *   keeps JSON types (a regression model's predictions and labels are numbers there).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { InvalidRequestError } from '../core/errors.ts';
import type { ExportedPrediction, LogSince, Store } from '../adapters/store/index.ts';
import { adminOnly } from './admin-auth.ts';
import { ModelName } from './model-name.ts';

export type LogFormat = 'csv' | 'ndjson';

/** Characters per chunk written to the response: fewer, larger writes than one per row. */
const CHUNK = 64 * 1024;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `since` of a log read: a prediction seq or an ISO time (serving/label-queue.ts reads it too). */
export const Since = z.string().transform((text, ctx): LogSince => {
  if (/^\d{1,15}$/.test(text)) return { afterSeq: Number(text) };
  if (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))) return { fromTime: new Date(text).toISOString() };
  ctx.addIssue({
    code: 'custom',
    message: 'a prediction seq (e.g. 1200: the predictions after it) or an ISO time with its zone (e.g. 2026-12-01T08:00:00Z) or date',
  });
  return z.NEVER;
});

const LogQuery = z.strictObject({
  since: Since.optional(),
  format: z.enum(['csv', 'ndjson'], { message: 'csv or ndjson' }).optional(),
});

export const logExportRoutes: FastifyPluginAsync<{ store: Store; adminToken: string }> = async (app, { store, adminToken }) => {
  app.addHook('onRequest', adminOnly(adminToken));

  app.get<{ Params: { model: string } }>('/v1/models/:model/log', async (request, reply) => {
    const model = ModelName.safeParse(request.params.model);
    if (!model.success) throw new InvalidRequestError(`invalid model name:\n${formatIssues(model.error)}`);
    const query = LogQuery.safeParse(request.query);
    if (!query.success) throw new InvalidRequestError(`invalid query:\n${formatIssues(query.error)}`);
    const since = query.data.since ?? {};
    const format: LogFormat = query.data.format ?? (/\btext\/csv\b/.test(request.headers.accept ?? '') ? 'csv' : 'ndjson');

    // CSV's columns are read now, before the response starts, so that a failure is still an HTTP error.
    const lines =
      format === 'csv'
        ? csvLines(store, model.data, since, await store.exportColumns(model.data, since))
        : ndjsonLines(store, model.data, since);
    return reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="${model.data}-log.${format}"`)
      .send(Readable.from(chunks(lines), { highWaterMark: 1 })); // one chunk read ahead: memory stays flat
  });
};

/** One JSON object per line, as `record` shapes it. */
async function* ndjsonLines(store: Store, model: string, since: LogSince): AsyncGenerator<string> {
  for await (const row of store.exportLog(model, since)) yield JSON.stringify(record(row)) + '\n';
}

/**
 * RFC 4180 CSV with a header; `record`'s nested objects become one column per key
 * (`features.wind`, `probabilities.rain`, `feedback.label`). Missing values are empty cells.
 */
async function* csvLines(
  store: Store,
  model: string,
  since: LogSince,
  { features, classes }: { features: string[]; classes: string[] },
): AsyncGenerator<string> {
  const columns = [
    'seq',
    'id',
    'createdAt',
    'version',
    'role',
    'task',
    'shadowOf',
    ...features.map((f) => `features.${f}`),
    'prediction',
    'confidence',
    ...classes.map((c) => `probabilities.${c}`),
    'feedback.kind',
    'feedback.label',
    'feedback.source',
    'feedback.createdAt',
  ];
  yield csvLine(columns);
  for await (const row of store.exportLog(model, since)) {
    const r = record(row);
    yield csvLine([
      r.seq,
      r.id,
      r.createdAt,
      r.version,
      r.role,
      r.task,
      r.shadowOf,
      ...features.map((f) => r.features[f]),
      r.prediction,
      r.confidence,
      ...classes.map((c) => r.probabilities[c]),
      r.feedback?.kind,
      r.feedback?.label,
      r.feedback?.source,
      r.feedback?.createdAt,
    ]);
  }
}

/** An exported row: a regression model's prediction and true value as numbers, not the store's text. */
function record(row: ExportedPrediction) {
  const { label, feedback, ...rest } = row;
  const value = (text: string | null) => (row.task === 'regression' && text !== null ? Number(text) : text);
  return { ...rest, prediction: value(label), feedback: feedback && { ...feedback, label: value(feedback.label) } };
}

function csvLine(cells: unknown[]): string {
  return cells.map(csvCell).join(',') + '\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // An empty string is quoted so that it reads back apart from a missing value.
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function* chunks(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const line of lines) {
    buffer += line;
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}
