/**
 * `perennial export`: a model's prediction log, from the model server's
 * `GET /v1/models/:model/log` (admin token), into a file. It is written to `<file>.partial` and
 * renamed once the server has sent everything, so a file under the asked name is always a
 * whole export; a refused or broken download leaves no file.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';

export type LogFormat = 'csv' | 'ndjson';

export interface ExportRequest {
  servingUrl: string;
  adminToken: string;
  model: string;
  /** A prediction seq or an ISO time (the server validates it). */
  since?: string;
  format: LogFormat;
  out: string;
  onProgress?: (progress: ExportProgress) => void;
}

export interface ExportProgress {
  /** Predictions received so far (a CSV's header is not one). */
  rows: number;
  bytes: number;
}

export async function exportLog(req: ExportRequest): Promise<ExportProgress> {
  const url = new URL(`${req.servingUrl.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(req.model)}/log`);
  url.searchParams.set('format', req.format);
  if (req.since !== undefined) url.searchParams.set('since', req.since);
  const response = await request(url, { headers: { authorization: `Bearer ${req.adminToken}` } }).catch((err: Error) => {
    throw new Error(`cannot reach the model server at ${req.servingUrl}: ${err.message}`, { cause: err });
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    throw new Error(`the model server refused the export (HTTP ${response.statusCode}): ${serverMessage(text)}`);
  }

  const counter = new RecordCounter(req.format === 'csv');
  const partial = `${req.out}.partial`;
  try {
    await pipeline(
      response.body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          counter.add(chunk);
          req.onProgress?.(progressOf(counter, req.format));
          yield chunk;
        }
      },
      createWriteStream(partial),
    );
    await rename(partial, req.out);
  } catch (err) {
    await rm(partial, { force: true });
    throw new Error(`the export of ${req.model} broke off: ${(err as Error).message}`, { cause: err });
  }
  return progressOf(counter, req.format);
}

function progressOf(counter: RecordCounter, format: LogFormat): ExportProgress {
  return { rows: format === 'csv' ? Math.max(0, counter.records - 1) : counter.records, bytes: counter.bytes };
}

/**
 * Counts the newlines that end a record: in CSV those outside double quotes (a quoted cell may
 * hold one; a doubled quote toggles twice); in NDJSON every one (JSON escapes them in strings).
 */
class RecordCounter {
  records = 0;
  bytes = 0;
  private quoted = false;

  constructor(private readonly csv: boolean) {}

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    for (const byte of chunk) {
      if (byte === 0x22 && this.csv) this.quoted = !this.quoted;
      else if (byte === 0x0a && !this.quoted) this.records++;
    }
  }
}

/** The server's error message from its JSON body, or the body itself (also for client/label-queue.ts). */
export function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: a proxy's page, say
  }
  return text.slice(0, 500);
}
