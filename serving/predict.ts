/**
 * POST /v1/models/:model/predict with dynamic batching. A request's rows are checked at once
 * (a 4xx never waits); then the request joins its model's batch. When the batch runs, each
 * request is routed on its own, champion or canary by the canary's weight, and the requests
 * routed to the same version are predicted in one tensor call; each gets its own rows' answers
 * back, logged through the group commit, and is answered once they are stored.
 */
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Prediction, Predictor } from '../ml/bundle.ts';
import { InvalidModelOutputError } from '../core/errors.ts';
import type { PredictionLog, Store } from '../adapters/store/index.ts';
import { callerOf } from './api-keys.ts';
import { Batcher, splitByCounts, type BatchSettings, type BatchStats } from './batcher.ts';
import type { LiveDeployments, Target } from './deployments.ts';
import { guardInputRange } from './input-range.ts';
import type { LogWriter } from './log-writer.ts';
import { missingFeatures, type Row } from './rows.ts';

type Answer = Record<string, unknown>;

interface PendingPredict {
  rows: Row[];
  /** The features the rows were checked for: a deployment changed since then checks them again. */
  features: string[];
  resolve: (answer: { predictions: Answer[] }) => void;
  reject: (error: unknown) => void;
}

export interface PredictRoute {
  /** Per model, how its requests were batched. */
  stats(): Record<string, BatchStats>;
  /** Runs every waiting batch now (the server is closing). */
  flush(): void;
}

export function registerPredict(
  app: FastifyInstance,
  deps: { store: Store; deployments: LiveDeployments; log: LogWriter; batching: BatchSettings },
): PredictRoute {
  const { store, deployments, log } = deps;
  const batchers = new Map<string, Batcher<PendingPredict>>();
  const batcherOf = (model: string) => {
    let batcher = batchers.get(model);
    if (!batcher) {
      batcher = new Batcher<PendingPredict>(deps.batching, (pending) => predictBatch(model, pending));
      batchers.set(model, batcher);
    }
    return batcher;
  };

  /** Synchronous from pick to predict: the predictors picked cannot be swapped out and disposed meanwhile. */
  function predictBatch(model: string, pending: PendingPredict[]): void {
    const byVersion = new Map<string, { target: Target; requests: PendingPredict[] }>();
    for (const request of pending) {
      try {
        const target = deployments.pick(model);
        if (request.features !== target.features) {
          const missing = missingFeatures(request.rows, target.features);
          if (missing) throw missing;
        }
        const group = byVersion.get(target.version) ?? { target, requests: [] };
        group.requests.push(request);
        byVersion.set(target.version, group);
      } catch (error) {
        request.reject(error);
      }
    }
    for (const { target, requests } of byVersion.values()) predictGroup(model, target, requests);
  }

  function predictGroup(model: string, target: Target, requests: PendingPredict[]): void {
    const guarded = requests.map((r) => guardInputRange(r.rows, target.predictor.preprocessor));
    let outputs: Prediction[][];
    try {
      const all = target.predictor.predict(guarded.flatMap((g) => g.rows));
      outputs = splitByCounts(
        all,
        requests.map((r) => r.rows.length),
      );
    } catch (error) {
      for (const r of requests) r.reject(error);
      return;
    }
    requests.forEach((request, i) => {
      try {
        const served = answer(model, target, request.rows, outputs[i], guarded[i].warnings);
        log.predictions(served.logged).then(() => request.resolve({ predictions: served.answers }), request.reject);
      } catch (error) {
        request.reject(error);
      }
    });
  }

  app.post<{ Params: { model: string } }>('/v1/models/:model/predict', (request) => {
    const { model } = request.params;
    callerOf(request, store, model);
    const { rows, features } = deployments.readRows(model, request.body);
    deployments.state(model); // 404 or 503 now, not after waiting for a batch
    return new Promise((resolve, reject) => batcherOf(model).add({ rows, features, resolve, reject }, rows.length));
  });

  return {
    stats: () => Object.fromEntries([...batchers].map(([model, batcher]) => [model, batcher.stats()])),
    flush: () => {
      for (const batcher of batchers.values()) batcher.flush();
    },
  };
}

/**
 * One request's answers and log rows. Checked whole before any of it is logged: a request is
 * served and logged whole or not at all.
 */
function answer(
  model: string,
  target: Target,
  rows: Row[],
  outputs: Prediction[],
  rangeWarnings: Map<number, string[]>,
): { answers: Answer[]; logged: PredictionLog[] } {
  const { version, role, predictor, features } = target;
  const task = predictor.task;
  outputs.forEach((o, i) => requireFiniteOutput(o, task, model, version, i));
  const answers: Answer[] = [];
  const logged: PredictionLog[] = [];
  outputs.forEach((o, i) => {
    const id = randomUUID();
    const rowWarnings = [...(rangeWarnings.get(i) ?? []), ...(o.warnings ?? [])];
    const warnings = rowWarnings.length ? { warnings: rowWarnings } : {};
    const row = rows[i];
    const base = { id, model, version, role, task, features: Object.fromEntries(features.map((f) => [f, row[f]])) };
    if (task === 'regression') {
      // A regression model's answer is its number: no classes, probabilities or confidence.
      const value = o.value!;
      answers.push({ id, value, version, role, ...warnings });
      logged.push({ ...base, label: String(value), probabilities: {}, confidence: null });
    } else {
      answers.push({ id, label: o.label, probabilities: o.probabilities, version, role, ...warnings });
      logged.push({ ...base, label: o.label, probabilities: o.probabilities, confidence: o.probabilities[o.label] });
    }
  });
  return { answers, logged };
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
