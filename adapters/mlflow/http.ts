/**
 * The MLflow client's transport: one pooled undici connection to the server, requests to its
 * REST API (`/api/2.0`), retries of transient failures, and MlflowError for every failure.
 *
 * Every request may be retried (see client.ts for why that is safe): keep it so when adding
 * endpoints, or exclude the new one from retries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import { z } from 'zod';

export class MlflowError extends Error {
  override readonly name = 'MlflowError';
  /** 0 when no HTTP answer came back. */
  readonly status: number;
  /** MLflow's error_code (e.g. RESOURCE_DOES_NOT_EXIST), `HTTP_<status>` for errors that are not MLflow JSON, `UNREACHABLE` when the server could not be reached or did not answer in time. */
  readonly errorCode: string;

  constructor(status: number, errorCode: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.errorCode = errorCode;
  }
}

const API = '/api/2.0';
const BACKOFF_MS = 200;

const ErrorBody = z.object({ error_code: z.string().optional(), message: z.string().optional(), detail: z.string().optional() });

export type Query = Record<string, string | string[]>;
export interface RequestInit {
  query?: Query;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
}

export interface HttpOptions {
  /** Extra attempts after a 429, a 5xx or a connection failure (default 2, after 200 then 400 ms). */
  retries?: number;
  /** For connecting, for the response to start and for each pause while it streams (default 30 s). */
  timeoutMs?: number;
}

export class MlflowHttp {
  /** Normalized, without a trailing slash. */
  readonly baseUrl: string;
  readonly #pool: Pool;
  // Path part of baseUrl, for a server behind a reverse proxy under a prefix.
  readonly #prefix: string;
  readonly #retries: number;

  constructor(baseUrl: string, options: HttpOptions = {}) {
    const url = new URL(baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.baseUrl = url.origin + this.#prefix;
    this.#retries = options.retries ?? 2;
    const timeout = options.timeoutMs ?? 30_000;
    this.#pool = new Pool(url.origin, { connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  }

  /** Closes pooled connections; unusable afterwards. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** `send`, then the answer parsed by `schema` (an empty body as {}). */
  async json<S extends z.ZodType>(schema: S, method: Dispatcher.HttpMethod, path: string, init: RequestInit = {}): Promise<z.output<S>> {
    const bytes = await this.send(method, path, init);
    const parsed = schema.safeParse(bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : {});
    if (!parsed.success)
      throw new Error(`MLflow ${method} ${this.#prefix}${API}${path} answered in an unexpected shape: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  /** Sends with retries (see the file comment for why every request may be retried); resolves to the body of a 2xx answer. */
  async send(method: Dispatcher.HttpMethod, path: string, init: RequestInit = {}): Promise<Buffer> {
    const endpoint = `${method} ${this.#prefix}${API}${path}`;
    const search = init.query ? `?${queryString(init.query)}` : '';
    const isJson = init.json !== undefined;
    const contentType = isJson ? 'application/json' : init.contentType;
    const request: Dispatcher.RequestOptions = {
      method,
      path: `${this.#prefix}${API}${path}${search}`,
      headers: contentType ? { 'content-type': contentType } : {},
      body: isJson ? JSON.stringify(init.json) : init.body,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(request, endpoint);
      } catch (error) {
        if (attempt >= this.#retries || !isTransient(error)) throw error;
        await sleep(BACKOFF_MS * 2 ** attempt);
      }
    }
  }

  async #attempt(request: Dispatcher.RequestOptions, endpoint: string): Promise<Buffer> {
    let status: number;
    let body: Buffer;
    try {
      const response = await this.#pool.request(request);
      status = response.statusCode;
      body = Buffer.from(await response.body.arrayBuffer());
    } catch (cause) {
      throw new MlflowError(0, 'UNREACHABLE', `could not reach MLflow at ${this.baseUrl} (${endpoint}): ${describe(cause)}`, { cause });
    }
    if (status < 200 || status >= 300) throw responseError(status, body, endpoint);
    return body;
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof MlflowError && (error.status === 0 || error.status === 429 || error.status >= 500);
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof MlflowError && codes.includes(error.errorCode);
}

/** The promise's value, or undefined when it fails with an MlflowError of one of `codes`. */
export async function orUndefined<T>(promise: Promise<T>, ...codes: string[]): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (hasCode(error, ...codes)) return undefined;
    throw error;
  }
}

function responseError(status: number, body: Buffer, endpoint: string): MlflowError {
  const text = body.toString('utf8');
  // MLflow's handlers answer {error_code, message}; its FastAPI routes {detail}; auth and security middleware plain text.
  const json = ErrorBody.safeParse(parseJson(text)).data;
  const errorCode = json?.error_code ?? `HTTP_${status}`;
  const message = json?.message ?? json?.detail ?? text;
  return new MlflowError(status, errorCode, `MLflow ${endpoint} failed with ${status} ${errorCode}: ${summary(message)}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One line of bounded length: some messages carry SQL statements or whole HTML pages. */
function summary(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim() || '(empty body)';
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

function describe(error: unknown): string {
  // Connecting to a name with several addresses fails with an AggregateError whose own message is empty.
  if (error instanceof AggregateError) return error.errors.map(describe).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  return params.toString();
}
