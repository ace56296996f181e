/** MLflow tracking: experiments, runs, their params, tags and metrics. MlflowClient's methods of the same names. */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { hasCode, orUndefined, type MlflowHttp, type Query } from './http.ts';
import { checkKey, keyValues, literal } from './checks.ts';
import {
  ExperimentSchema,
  MetricSchema,
  RunSchema,
  nextPageToken,
  toRecord,
  toRun,
  type KeyValue,
  type MetricPoint,
  type MlflowRun,
  type RawRun,
} from './schemas.ts';

const RUN_KEY_TAG = 'perennial.key';
const PARENT_RUN_TAG = 'mlflow.parentRunId';
const SEARCH_PAGE_SIZE = 1000;
// Per-request limits of runs/log-batch.
const BATCH_LIMITS = { params: 100, tags: 100, metrics: 1000 } as const;
const BATCH_MAX_ENTRIES = 1000;

// ---- Experiments ----

export async function getOrCreateExperiment(http: MlflowHttp, name: string, tags: Record<string, string> = {}): Promise<string> {
  const wanted = keyValues('experiment tag', { 'mlflow.experimentKind': 'custom_model_development', ...tags });
  let experiment = await experimentByName(http, name);
  if (!experiment) {
    try {
      const created = await http.json(z.object({ experiment_id: z.string() }), 'POST', '/mlflow/experiments/create', {
        json: { name, tags: wanted },
      });
      return created.experiment_id;
    } catch (error) {
      if (!hasCode(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
      // Someone created it between our lookup and our create; a deleted experiment also keeps its name.
      experiment = await experimentByName(http, name);
      if (!experiment) throw error;
    }
  }
  const experimentId = experiment.experiment_id;
  if (experiment.lifecycle_stage === 'deleted')
    await http.send('POST', '/mlflow/experiments/restore', { json: { experiment_id: experimentId } });
  const current = toRecord(experiment.tags);
  for (const { key, value } of wanted) {
    if (current[key] !== value)
      await http.send('POST', '/mlflow/experiments/set-experiment-tag', { json: { experiment_id: experimentId, key, value } });
  }
  return experimentId;
}

/** Ids of the active experiments matching `filter` (MLflow's syntax, e.g. `name LIKE 'perennial/%'`), following page tokens. */
export async function searchExperiments(http: MlflowHttp, filter: string): Promise<string[]> {
  const Page = z.object({ experiments: z.array(ExperimentSchema).default([]), next_page_token: nextPageToken });
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await http.json(Page, 'POST', '/mlflow/experiments/search', {
      json: { filter, max_results: SEARCH_PAGE_SIZE, page_token: pageToken, view_type: 'ACTIVE_ONLY' },
    });
    ids.push(...page.experiments.map((e) => e.experiment_id));
    pageToken = page.next_page_token;
  } while (pageToken);
  return ids;
}

function experimentByName(http: MlflowHttp, name: string) {
  const response = http.json(z.object({ experiment: ExperimentSchema }), 'GET', '/mlflow/experiments/get-by-name', {
    query: { experiment_name: name },
  });
  return orUndefined(
    response.then((r) => r.experiment),
    'RESOURCE_DOES_NOT_EXIST',
  );
}

// ---- Runs ----

/**
 * Concurrent callers that both found no run both create one, and must agree on one winner
 * without a lock (MLflow has none). A caller that looked right after creating could see only
 * its own run while a racer, whose run appears a moment later but carries an older client
 * start time, sees both and picks its own. So every creator waits `raceSettleMs` for the
 * racers' runs to appear, then all pick the same winner from everything with the key,
 * deleted runs included: the lowest start time, then run id. Nobody ever deletes that run
 * (whoever created it saw nothing lower), so losers may delete every other active one.
 * This holds while a racer's create lands within the settle window of ours.
 */
export async function findOrCreateRun(
  http: MlflowHttp,
  raceSettleMs: number,
  input: { experimentId: string; key: string; runName: string; parentRunId?: string; tags?: Record<string, string>; startTime?: number },
): Promise<{ run: MlflowRun; created: boolean }> {
  const existing = await runsWithKey(http, input.experimentId, input.key);
  if (existing.length > 0) {
    const run = oldestActive(existing) ?? oldest(existing);
    if (run.info.lifecycle_stage === 'deleted') await http.send('POST', '/mlflow/runs/restore', { json: { run_id: run.info.run_id } });
    return { run: toRun(run), created: false };
  }

  const tags: Record<string, string> = { ...input.tags, [RUN_KEY_TAG]: input.key };
  if (input.parentRunId) tags[PARENT_RUN_TAG] = input.parentRunId;
  const { run: mine } = await http.json(z.object({ run: RunSchema }), 'POST', '/mlflow/runs/create', {
    json: {
      experiment_id: input.experimentId,
      run_name: input.runName,
      start_time: input.startTime ?? Date.now(),
      tags: keyValues('run tag', tags),
    },
  });
  await sleep(raceSettleMs);
  const racers = await runsWithKey(http, input.experimentId, input.key);
  const winner = oldest([mine, ...racers]);
  for (const run of racers) {
    if (run.info.run_id !== winner.info.run_id && run.info.lifecycle_stage === 'active') {
      await orUndefined(http.send('POST', '/mlflow/runs/delete', { json: { run_id: run.info.run_id } }), 'RESOURCE_DOES_NOT_EXIST');
    }
  }
  if (winner.info.run_id === mine.info.run_id) return { run: toRun(mine), created: true };
  return { run: toRun(winner), created: false };
}

function runsWithKey(http: MlflowHttp, experimentId: string, key: string): Promise<RawRun[]> {
  return searchRawRuns(http, { experiment_ids: [experimentId], filter: `tags.\`${RUN_KEY_TAG}\` = ${literal(key)}`, run_view_type: 'ALL' });
}

/** Earliest start, then lowest id: an order every caller computes alike. */
function oldest(runs: RawRun[]): RawRun {
  return runs.reduce((a, b) =>
    b.info.start_time < a.info.start_time || (b.info.start_time === a.info.start_time && b.info.run_id < a.info.run_id) ? b : a,
  );
}

function oldestActive(runs: RawRun[]): RawRun | undefined {
  const active = runs.filter((run) => run.info.lifecycle_stage === 'active');
  return active.length > 0 ? oldest(active) : undefined;
}

export async function getRun(http: MlflowHttp, runId: string): Promise<MlflowRun> {
  const { run } = await http.json(z.object({ run: RunSchema }), 'GET', '/mlflow/runs/get', { query: { run_id: runId } });
  return toRun(run);
}

export async function searchRuns(
  http: MlflowHttp,
  experimentIds: string[],
  filter?: string,
  options: { orderBy?: string[]; maxResults?: number } = {},
): Promise<MlflowRun[]> {
  const runs = await searchRawRuns(
    http,
    { experiment_ids: experimentIds, filter, order_by: options.orderBy, run_view_type: 'ACTIVE_ONLY' },
    options.maxResults,
  );
  return runs.map(toRun);
}

async function searchRawRuns(
  http: MlflowHttp,
  request: { experiment_ids: string[]; filter?: string; order_by?: string[]; run_view_type: string },
  limit = Infinity,
): Promise<RawRun[]> {
  const Page = z.object({ runs: z.array(RunSchema).default([]), next_page_token: nextPageToken });
  const runs: RawRun[] = [];
  let pageToken: string | undefined;
  do {
    const page = await http.json(Page, 'POST', '/mlflow/runs/search', {
      json: { ...request, max_results: Math.min(SEARCH_PAGE_SIZE, limit - runs.length), page_token: pageToken },
    });
    runs.push(...page.runs);
    pageToken = page.next_page_token;
  } while (pageToken && runs.length < limit);
  return runs;
}

export function childRuns(http: MlflowHttp, experimentId: string, parentRunId: string): Promise<MlflowRun[]> {
  return searchRuns(http, [experimentId], `tags.\`${PARENT_RUN_TAG}\` = ${literal(parentRunId)}`);
}

export async function logBatch(
  http: MlflowHttp,
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
    await http.send('POST', '/mlflow/runs/log-batch', { json: { run_id: runId, ...chunk } });
  }
}

export async function setTag(http: MlflowHttp, runId: string, key: string, value: string): Promise<void> {
  await http.send('POST', '/mlflow/runs/set-tag', { json: { run_id: runId, key: checkKey('run tag', key), value } });
}

export async function finishRun(
  http: MlflowHttp,
  runId: string,
  status: 'FINISHED' | 'FAILED' | 'KILLED',
  endTime = Date.now(),
): Promise<void> {
  await http.send('POST', '/mlflow/runs/update', { json: { run_id: runId, status, end_time: endTime } });
}

export async function metricHistory(http: MlflowHttp, runId: string, key: string): Promise<MetricPoint[]> {
  const Page = z.object({ metrics: z.array(MetricSchema).default([]), next_page_token: nextPageToken });
  const points: MetricPoint[] = [];
  let pageToken: string | undefined;
  do {
    const query: Query = { run_id: runId, metric_key: key };
    if (pageToken) query.page_token = pageToken;
    const page = await http.json(Page, 'GET', '/mlflow/metrics/get-history', { query });
    points.push(...page.metrics);
    pageToken = page.next_page_token;
  } while (pageToken);
  return points;
}

function metricEntry(point: MetricPoint, now: number) {
  checkKey('metric key', point.key);
  const timestamp = point.timestamp ?? now;
  // MLflow stores 0 for a step or timestamp that is not an integer instead of refusing it.
  if (!Number.isSafeInteger(point.step)) throw new Error(`metric "${point.key}": step ${point.step} must be an integer`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new Error(`metric "${point.key}": timestamp ${timestamp} must be a non-negative integer (ms)`);
  if (typeof point.value !== 'number') throw new Error(`metric "${point.key}": value ${String(point.value)} must be a number`);
  return { key: point.key, value: Number.isFinite(point.value) ? point.value : String(point.value), step: point.step, timestamp };
}

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

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
