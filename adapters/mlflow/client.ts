/**
 * Perennial's MLflow REST client (MLflow 3.x, proxied artifacts).
 *
 * Activities call it under Temporal retries and it retries transient failures itself, so every
 * request it sends is idempotent: reads; overwrites (tags, aliases, run status, artifacts);
 * metric points with fixed timestamps, which MLflow drops when logged twice; and creates keyed
 * by a name or a `perennial.key` tag that search before creating and settle races after.
 * Keep it that way when adding endpoints, or exclude the new one from retries.
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

export interface MlflowRun {
  runId: string;
  experimentId: string;
  runName: string;
  status: string;
  artifactUri: string;
  startTime: number;
  tags: Record<string, string>;
  params: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
}

export interface ModelVersion {
  name: string;
  version: string;
  runId: string;
  source: string;
  tags: Record<string, string>;
  aliases: string[];
  status: string;
}

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds; defaults to now. */
  timestamp?: number;
}

export interface ArtifactEntry {
  /** Relative to the artifact URI it was listed under, ready for `downloadArtifact`. */
  path: string;
  isDir: boolean;
  size?: number;
}

export interface RegisteredModel {
  name: string;
  /** alias -> version */
  aliases: Record<string, string>;
  latestVersions: string[];
}

const API = '/api/2.0';
const RUN_KEY_TAG = 'perennial.key';
const PARENT_RUN_TAG = 'mlflow.parentRunId';
const BACKOFF_MS = 200;
const SEARCH_PAGE_SIZE = 1000;
// Per-request limits of runs/log-batch.
const BATCH_LIMITS = { params: 100, tags: 100, metrics: 1000 } as const;
const BATCH_MAX_ENTRIES = 1000;

// Proto-JSON: snake_case, empty lists and unset fields left out.
const KeyValues = z.array(z.object({ key: z.string(), value: z.string().default('') })).default([]);
// JSON has no NaN or Infinity, so proto-JSON spells them as strings.
const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);
const MetricSchema = z.object({ key: z.string(), value: MetricValue, step: z.number().default(0), timestamp: z.number().default(0) });
const RunSchema = z.object({
  info: z.object({
    run_id: z.string(),
    experiment_id: z.string(),
    run_name: z.string().default(''),
    status: z.string(),
    artifact_uri: z.string(),
    start_time: z.number().default(0),
    lifecycle_stage: z.string(),
  }),
  data: z.object({ tags: KeyValues, params: KeyValues, metrics: z.array(MetricSchema).default([]) }).prefault({}),
});
type RawRun = z.infer<typeof RunSchema>;
const ExperimentSchema = z.object({ experiment_id: z.string(), lifecycle_stage: z.string(), tags: KeyValues });
const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  run_id: z.string().default(''),
  source: z.string().default(''),
  status: z.string().default(''),
  tags: KeyValues,
  aliases: z.array(z.string()).default([]),
});
type RawModelVersion = z.infer<typeof ModelVersionSchema>;
const RegisteredModelSchema = z.object({
  name: z.string(),
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })).default([]),
  latest_versions: z.array(z.object({ version: z.string() })).default([]),
});
const ErrorBody = z.object({ error_code: z.string().optional(), message: z.string().optional(), detail: z.string().optional() });

const nextPageToken = z.string().optional();

type Query = Record<string, string | string[]>;
interface RequestInit {
  query?: Query;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
}

export class MlflowClient {
  /** Normalized, without a trailing slash. */
  readonly baseUrl: string;
  readonly #pool: Pool;
  // Path part of baseUrl, for a server behind a reverse proxy under a prefix.
  readonly #prefix: string;
  readonly #retries: number;
  readonly #raceSettleMs: number;

  /**
   * `retries`: extra attempts after a 429, a 5xx or a connection failure (default 2, after 200
   * then 400 ms). `timeoutMs`: for connecting, for the response to start and for each pause
   * while it streams (default 30 s). `raceSettleMs`: how long a new keyed run waits for
   * concurrent creators of the same key before the winner is chosen (default 1 s; see findOrCreateRun).
   */
  constructor(baseUrl: string, options: { retries?: number; timeoutMs?: number; raceSettleMs?: number } = {}) {
    const url = new URL(baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.baseUrl = url.origin + this.#prefix;
    this.#retries = options.retries ?? 2;
    this.#raceSettleMs = options.raceSettleMs ?? 1000;
    const timeout = options.timeoutMs ?? 30_000;
    this.#pool = new Pool(url.origin, { connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  }

  /** Closes pooled connections; the client is unusable afterwards. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  // ---- Experiments ----

  /** Get by name or create (race-safe); restores a deleted one. Tags it `mlflow.experimentKind=custom_model_development` so the UI opens the training view, not the GenAI one. */
  async getOrCreateExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    const wanted = keyValues('experiment tag', { 'mlflow.experimentKind': 'custom_model_development', ...tags });
    let experiment = await this.#experimentByName(name);
    if (!experiment) {
      try {
        const created = await this.#json(z.object({ experiment_id: z.string() }), 'POST', '/mlflow/experiments/create', { json: { name, tags: wanted } });
        return created.experiment_id;
      } catch (error) {
        if (!hasCode(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
        // Someone created it between our lookup and our create; a deleted experiment also keeps its name.
        experiment = await this.#experimentByName(name);
        if (!experiment) throw error;
      }
    }
    const experimentId = experiment.experiment_id;
    if (experiment.lifecycle_stage === 'deleted') await this.#send('POST', '/mlflow/experiments/restore', { json: { experiment_id: experimentId } });
    const current = toRecord(experiment.tags);
    for (const { key, value } of wanted) {
      if (current[key] !== value) await this.#send('POST', '/mlflow/experiments/set-experiment-tag', { json: { experiment_id: experimentId, key, value } });
    }
    return experimentId;
  }

  #experimentByName(name: string) {
    const response = this.#json(z.object({ experiment: ExperimentSchema }), 'GET', '/mlflow/experiments/get-by-name', { query: { experiment_name: name } });
    return orUndefined(response.then((r) => r.experiment), 'RESOURCE_DOES_NOT_EXIST');
  }

  // ---- Runs ----

  /**
   * Idempotent run creation keyed by the tag `perennial.key`: reuses the run with that key if
   * there is one (restoring it if it was deleted) and creates it otherwise.
   *
   * Concurrent callers that both found no run both create one, and must agree on one winner
   * without a lock (MLflow has none). A caller that looked right after creating could see only
   * its own run while a racer, whose run appears a moment later but carries an older client
   * start time, sees both and picks its own. So every creator waits `raceSettleMs` for the
   * racers' runs to appear, then all pick the same winner from everything with the key,
   * deleted runs included: the lowest start time, then run id. Nobody ever deletes that run
   * (whoever created it saw nothing lower), so losers may delete every other active one.
   * This holds while a racer's create lands within the settle window of ours.
   */
  async findOrCreateRun(input: {
    experimentId: string;
    key: string;
    runName: string;
    parentRunId?: string;
    tags?: Record<string, string>;
    startTime?: number;
  }): Promise<{ run: MlflowRun; created: boolean }> {
    const existing = await this.#runsWithKey(input.experimentId, input.key);
    if (existing.length > 0) {
      const run = oldestActive(existing) ?? oldest(existing);
      if (run.info.lifecycle_stage === 'deleted') await this.#send('POST', '/mlflow/runs/restore', { json: { run_id: run.info.run_id } });
      return { run: toRun(run), created: false };
    }

    const tags: Record<string, string> = { ...input.tags, [RUN_KEY_TAG]: input.key };
    if (input.parentRunId) tags[PARENT_RUN_TAG] = input.parentRunId;
    const { run: mine } = await this.#json(z.object({ run: RunSchema }), 'POST', '/mlflow/runs/create', {
      json: { experiment_id: input.experimentId, run_name: input.runName, start_time: input.startTime ?? Date.now(), tags: keyValues('run tag', tags) },
    });
    await sleep(this.#raceSettleMs);
    const racers = await this.#runsWithKey(input.experimentId, input.key);
    const winner = oldest([mine, ...racers]);
    for (const run of racers) {
      if (run.info.run_id !== winner.info.run_id && run.info.lifecycle_stage === 'active') {
        await orUndefined(this.#send('POST', '/mlflow/runs/delete', { json: { run_id: run.info.run_id } }), 'RESOURCE_DOES_NOT_EXIST');
      }
    }
    if (winner.info.run_id === mine.info.run_id) return { run: toRun(mine), created: true };
    return { run: toRun(winner), created: false };
  }

  #runsWithKey(experimentId: string, key: string): Promise<RawRun[]> {
    return this.#searchRuns({ experiment_ids: [experimentId], filter: `tags.\`${RUN_KEY_TAG}\` = ${literal(key)}`, run_view_type: 'ALL' });
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const { run } = await this.#json(z.object({ run: RunSchema }), 'GET', '/mlflow/runs/get', { query: { run_id: runId } });
    return toRun(run);
  }

  /** Active runs, following page tokens. `filter` uses MLflow's filter syntax (AND only, backquoted keys). */
  async searchRuns(experimentIds: string[], filter?: string, options: { orderBy?: string[]; maxResults?: number } = {}): Promise<MlflowRun[]> {
    const runs = await this.#searchRuns({ experiment_ids: experimentIds, filter, order_by: options.orderBy, run_view_type: 'ACTIVE_ONLY' }, options.maxResults);
    return runs.map(toRun);
  }

  async #searchRuns(request: { experiment_ids: string[]; filter?: string; order_by?: string[]; run_view_type: string }, limit = Infinity): Promise<RawRun[]> {
    const Page = z.object({ runs: z.array(RunSchema).default([]), next_page_token: nextPageToken });
    const runs: RawRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.#json(Page, 'POST', '/mlflow/runs/search', {
        json: { ...request, max_results: Math.min(SEARCH_PAGE_SIZE, limit - runs.length), page_token: pageToken },
      });
      runs.push(...page.runs);
      pageToken = page.next_page_token;
    } while (pageToken && runs.length < limit);
    return runs;
  }

  childRuns(experimentId: string, parentRunId: string): Promise<MlflowRun[]> {
    return this.searchRuns([experimentId], `tags.\`${PARENT_RUN_TAG}\` = ${literal(parentRunId)}`);
  }

  /**
   * Logs in as many requests as MLflow's per-request limits need. Points without a timestamp
   * all get the same one, so a retried request repeats identical points, which MLflow drops;
   * pass timestamps to make a whole activity retry idempotent too. Re-logging a param with
   * the same value is fine; with a different value it is an MlflowError (INVALID_PARAMETER_VALUE).
   */
  async logBatch(
    runId: string,
    batch: { metrics?: MetricPoint[]; params?: Record<string, string | number | boolean>; tags?: Record<string, string> },
  ): Promise<void> {
    const now = Date.now();
    const entries = {
      params: keyValues('param key', mapValues(batch.params ?? {}, String)),
      tags: keyValues('run tag', batch.tags ?? {}),
      metrics: (batch.metrics ?? []).map((point) => metricEntry(point, now)),
    };
    for (const chunk of logBatchRequests(entries)) {
      await this.#send('POST', '/mlflow/runs/log-batch', { json: { run_id: runId, ...chunk } });
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.#send('POST', '/mlflow/runs/set-tag', { json: { run_id: runId, key: checkKey('run tag', key), value } });
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime = Date.now()): Promise<void> {
    await this.#send('POST', '/mlflow/runs/update', { json: { run_id: runId, status, end_time: endTime } });
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const Page = z.object({ metrics: z.array(MetricSchema).default([]), next_page_token: nextPageToken });
    const points: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const query: Query = { run_id: runId, metric_key: key };
      if (pageToken) query.page_token = pageToken;
      const page = await this.#json(Page, 'GET', '/mlflow/metrics/get-history', { query });
      points.push(...page.metrics);
      pageToken = page.next_page_token;
    } while (pageToken);
    return points;
  }

  // ---- Artifacts (through the server's artifact proxy) ----

  /** Writes `path` (relative to `artifactUri`), overwriting what is there. */
  async uploadArtifact(artifactUri: string, path: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    await this.#send('PUT', artifactEndpoint(artifactUri, path), { body: bytes, contentType });
  }

  async downloadArtifact(artifactUri: string, path: string): Promise<Uint8Array> {
    return new Uint8Array(await this.#send('GET', artifactEndpoint(artifactUri, path)));
  }

  /** Direct children of `path`; a missing directory lists as empty. */
  async listArtifacts(artifactUri: string, path = ''): Promise<ArtifactEntry[]> {
    const Listing = z.object({
      files: z.array(z.object({ path: z.string(), is_dir: z.boolean().default(false), file_size: z.number().optional() })).default([]),
    });
    const dir = pathSegments(path);
    const { files } = await this.#json(Listing, 'GET', '/mlflow-artifacts/artifacts', { query: { path: [...artifactRoot(artifactUri), ...dir].join('/') } });
    // The proxy answers with bare names; callers want paths they can download.
    return files.map((file) => ({ path: [...dir, file.path].join('/'), isDir: file.is_dir, size: file.file_size }));
  }

  // ---- Model registry ----

  async ensureRegisteredModel(name: string, description?: string): Promise<void> {
    try {
      await this.#send('POST', '/mlflow/registered-models/create', { json: { name, description } });
    } catch (error) {
      if (!hasCode(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
    }
  }

  /**
   * Idempotent: returns the version of `name` registered from `runId` if there is one, and
   * only creates one otherwise; concurrent attempts all settle on the lowest version and
   * delete the rest. `source` is e.g. `${run.artifactUri}/model`.
   */
  async findOrCreateModelVersion(input: { name: string; source: string; runId: string; tags?: Record<string, string> }): Promise<{ version: ModelVersion; created: boolean }> {
    const existing = await this.#versionsFromRun(input.name, input.runId);
    if (existing.length > 0) return { version: await this.#settleVersions(input.name, existing), created: false };

    const { model_version: created } = await this.#json(z.object({ model_version: ModelVersionSchema }), 'POST', '/mlflow/model-versions/create', {
      json: { name: input.name, source: input.source, run_id: input.runId, tags: keyValues('model version tag', input.tags ?? {}) },
    });
    const kept = await this.#settleVersions(input.name, await this.#versionsFromRun(input.name, input.runId));
    return { version: kept, created: kept.version === created.version };
  }

  async #versionsFromRun(name: string, runId: string): Promise<RawModelVersion[]> {
    const Page = z.object({ model_versions: z.array(ModelVersionSchema).default([]) });
    const filter = `name = ${literal(name)} AND run_id = ${literal(runId)}`;
    return (await this.#json(Page, 'GET', '/mlflow/model-versions/search', { query: { filter } })).model_versions;
  }

  /** Keeps the lowest version and deletes the rest: MLflow numbers versions in commit order, so whoever created a higher one also sees the lowest and settles on it too. */
  async #settleVersions(name: string, versions: RawModelVersion[]): Promise<ModelVersion> {
    const [kept, ...extra] = [...versions].sort((a, b) => Number(a.version) - Number(b.version));
    for (const { version } of extra) {
      // Another racer may have deleted it already.
      await orUndefined(this.#send('DELETE', '/mlflow/model-versions/delete', { json: { name, version } }), 'RESOURCE_DOES_NOT_EXIST');
    }
    // Read it again: search results leave out aliases.
    return this.getModelVersion(name, kept.version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const response = await this.#json(z.object({ model_version: ModelVersionSchema }), 'GET', '/mlflow/model-versions/get', { query: { name, version } });
    return toModelVersion(response.model_version);
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.#send('POST', '/mlflow/model-versions/set-tag', { json: { name, version, key: checkKey('model version tag', key), value } });
  }

  /** Points `alias` at `version`, moving it if it pointed elsewhere. */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.#send('POST', '/mlflow/registered-models/alias', { json: { name, alias: checkAlias(alias), version } });
  }

  /** undefined when the alias is not set, including when the model is not registered yet. */
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    // MLflow answers a missing alias with INVALID_PARAMETER_VALUE, which it also uses for a
    // malformed alias name; checking the name first leaves "not set" as the only meaning.
    checkAlias(alias);
    const response = this.#json(z.object({ model_version: ModelVersionSchema }), 'GET', '/mlflow/registered-models/alias', { query: { name, alias } });
    const version = await orUndefined(response, 'INVALID_PARAMETER_VALUE', 'RESOURCE_DOES_NOT_EXIST');
    return version && toModelVersion(version.model_version);
  }

  /** Removing an alias that is not set is fine. */
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.#send('DELETE', '/mlflow/registered-models/alias', { json: { name, alias: checkAlias(alias) } });
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    const response = this.#json(z.object({ registered_model: RegisteredModelSchema }), 'GET', '/mlflow/registered-models/get', { query: { name } });
    const found = await orUndefined(response, 'RESOURCE_DOES_NOT_EXIST');
    if (!found) return undefined;
    const model = found.registered_model;
    return {
      name: model.name,
      aliases: Object.fromEntries(model.aliases.map(({ alias, version }) => [alias, version])),
      latestVersions: model.latest_versions.map(({ version }) => version),
    };
  }

  // ---- Transport ----

  async #json<S extends z.ZodType>(schema: S, method: Dispatcher.HttpMethod, path: string, init: RequestInit = {}): Promise<z.output<S>> {
    const bytes = await this.#send(method, path, init);
    const parsed = schema.safeParse(bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : {});
    if (!parsed.success) throw new Error(`MLflow ${method} ${this.#prefix}${API}${path} answered in an unexpected shape: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  /** Sends with retries (see the file comment for why every request may be retried); resolves to the body of a 2xx answer. */
  async #send(method: Dispatcher.HttpMethod, path: string, init: RequestInit = {}): Promise<Buffer> {
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

/** Earliest start, then lowest id: an order every caller computes alike. */
function oldest(runs: RawRun[]): RawRun {
  return runs.reduce((a, b) => (b.info.start_time < a.info.start_time || (b.info.start_time === a.info.start_time && b.info.run_id < a.info.run_id) ? b : a));
}

function oldestActive(runs: RawRun[]): RawRun | undefined {
  const active = runs.filter((run) => run.info.lifecycle_stage === 'active');
  return active.length > 0 ? oldest(active) : undefined;
}

function isTransient(error: unknown): boolean {
  return error instanceof MlflowError && (error.status === 0 || error.status === 429 || error.status >= 500);
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof MlflowError && codes.includes(error.errorCode);
}

async function orUndefined<T>(promise: Promise<T>, ...codes: string[]): Promise<T | undefined> {
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

// ---- Input checks: what MLflow would reject only after a round trip, or silently mangle ----

// MLflow's rule on Linux: letters, digits, underscores, dashes, periods, spaces, colons and slashes.
const KEY_CHARACTERS = /^[\p{L}\p{N}_\-. :/]+$/u;

function checkKey(kind: string, key: string): string {
  if (key.length === 0 || key.length > 250) throw new Error(`${kind} "${key}" must be 1 to 250 characters long`);
  if (!KEY_CHARACTERS.test(key)) throw new Error(`${kind} "${key}" may only contain letters, digits, spaces and _ - . : /`);
  // MLflow may store keys as file paths, so they must not resolve to other paths.
  if (key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new Error(`${kind} "${key}" must not start or end with "/" nor contain "//", "." or ".." segments`);
  }
  return key;
}

function checkAlias(alias: string): string {
  if (!/^[\w-]{1,255}$/.test(alias)) throw new Error(`alias "${alias}" may only contain letters, digits, _ and -`);
  if (/^(latest|v\d+)$/i.test(alias)) throw new Error(`alias "${alias}" is reserved by MLflow`);
  return alias;
}

/** MLflow's filter grammar has no escape for a quote inside a string literal. */
function literal(value: string): string {
  if (value.includes("'")) throw new Error(`cannot search MLflow for a value containing a single quote: ${value}`);
  return `'${value}'`;
}

function metricEntry(point: MetricPoint, now: number) {
  checkKey('metric key', point.key);
  const timestamp = point.timestamp ?? now;
  // MLflow stores 0 for a step or timestamp that is not an integer instead of refusing it.
  if (!Number.isSafeInteger(point.step)) throw new Error(`metric "${point.key}": step ${point.step} must be an integer`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`metric "${point.key}": timestamp ${timestamp} must be a non-negative integer (ms)`);
  if (typeof point.value !== 'number') throw new Error(`metric "${point.key}": value ${String(point.value)} must be a number`);
  return { key: point.key, value: Number.isFinite(point.value) ? point.value : String(point.value), step: point.step, timestamp };
}

type KeyValue = { key: string; value: string };
type LogBatchEntries = { params: KeyValue[]; tags: KeyValue[]; metrics: ReturnType<typeof metricEntry>[] };

/** Splits entries into log-batch requests within MLflow's limits. Params go first so a conflicting one fails before any metric is written. */
function* logBatchRequests(entries: LogBatchEntries): Generator<LogBatchEntries> {
  const empty = (): LogBatchEntries => ({ params: [], tags: [], metrics: [] });
  let request = empty();
  let size = 0;
  for (const kind of ['params', 'tags', 'metrics'] as const) {
    for (const entry of entries[kind]) {
      if (size === BATCH_MAX_ENTRIES || request[kind].length === BATCH_LIMITS[kind]) {
        yield request;
        request = empty();
        size = 0;
      }
      (request[kind] as unknown[]).push(entry);
      size++;
    }
  }
  if (size > 0) yield request;
}

function keyValues(kind: string, record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key: checkKey(kind, key), value }));
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

function toRecord(pairs: KeyValue[]): Record<string, string> {
  return Object.fromEntries(pairs.map(({ key, value }) => [key, value]));
}

// ---- Artifact paths ----

/** `mlflow-artifacts:/1/<run>/artifacts` -> ['1', '<run>', 'artifacts'], its place on the artifact proxy. */
function artifactRoot(artifactUri: string): string[] {
  // An authority (`mlflow-artifacts://host/...`) names the server that proxies; this client talks to its own baseUrl.
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(artifactUri);
  if (!match) throw new Error(`artifact URI "${artifactUri}" is not served by MLflow's artifact proxy (mlflow server --serve-artifacts)`);
  return pathSegments(match[1]);
}

/** The artifact proxy refuses these with a bare "Invalid path". */
function pathSegments(path: string): string[] {
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) throw new Error(`artifact path "${path}" must not contain "." or ".." segments`);
  if (path.includes('#')) throw new Error(`artifact path "${path}" must not contain "#"`);
  return segments;
}

function artifactEndpoint(artifactUri: string, path: string): string {
  const segments = [...artifactRoot(artifactUri), ...pathSegments(path)];
  return `/mlflow-artifacts/artifacts/${segments.map(encodeURIComponent).join('/')}`;
}

// ---- Mapping ----

function toRun({ info, data }: RawRun): MlflowRun {
  return {
    runId: info.run_id,
    experimentId: info.experiment_id,
    runName: info.run_name,
    status: info.status,
    artifactUri: info.artifact_uri,
    startTime: info.start_time,
    tags: toRecord(data.tags),
    params: toRecord(data.params),
    metrics: Object.fromEntries(data.metrics.map(({ key, value }) => [key, value])),
  };
}

function toModelVersion(version: RawModelVersion): ModelVersion {
  return {
    name: version.name,
    version: version.version,
    runId: version.run_id,
    source: version.source,
    tags: toRecord(version.tags),
    aliases: version.aliases,
    status: version.status,
  };
}
