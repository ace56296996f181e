/**
 * Predicting with dynamic batching, for every protocol. A request's rows are checked before they
 * get here (a 4xx never waits); then the request joins its model's batch. When the batch runs,
 * each request is routed on its own (champion or canary by the canary's weight, by its routing key
 * when it has one, or the version it names), and the requests routed to the same version are predicted in one tensor call. Each gets
 * its own rows' answers back, logged through the group commit, and settles once they are stored.
 */
import type { FastifyRequest } from 'fastify';
import type { Prediction } from '../ml/bundle.ts';
import { answer, type Served } from './answers.ts';
import { Batcher, splitByCounts, type BatchSettings, type BatchStats } from './batcher.ts';
import type { LiveDeployments, Target } from './deployments.ts';
import { guardInputRange } from './input-range.ts';
import type { LogWriter } from './log-writer.ts';
import { missingFeatures, type Row } from './rows.ts';

export interface PredictRequest {
  rows: Row[];
  /** The features the rows were checked for: a deployment changed since then checks them again. */
  features: string[];
  /** A version the request names (served as itself, no routing draw); otherwise the routing picks. */
  version?: string;
  /** Who the request is for: routes it to the same version every time (serving/routing-key.ts). */
  routingKey?: string;
}

export interface PredictResult {
  target: Target;
  predictions: Served[];
}

/** A request's rows served for one protocol's route (serving/server.ts builds it). */
export type ServeRequest = (request: FastifyRequest, model: string, rows: PredictRequest) => Promise<PredictResult>;

/** Told of every tensor call: its rows, and how long each request in it waited for the batch to run. */
export type BatchObserver = (model: string, target: Target, rows: number, waitedSeconds: number[]) => void;

interface Pending extends PredictRequest {
  queuedAt: number;
  resolve: (result: PredictResult) => void;
  reject: (error: unknown) => void;
}

export class PredictionBatches {
  private readonly batchers = new Map<string, Batcher<Pending>>();

  constructor(
    private readonly deployments: LiveDeployments,
    private readonly log: LogWriter,
    private readonly settings: BatchSettings,
    private readonly observe: BatchObserver = () => {},
  ) {}

  /** Predicts and logs the request's rows; resolves once they are committed. */
  serve(model: string, request: PredictRequest): Promise<PredictResult> {
    return new Promise((resolve, reject) =>
      this.batcherOf(model).add({ ...request, queuedAt: performance.now(), resolve, reject }, request.rows.length),
    );
  }

  /** Per model, how its requests were batched. */
  stats(): Record<string, BatchStats> {
    return Object.fromEntries([...this.batchers].map(([model, batcher]) => [model, batcher.stats()]));
  }

  /** Runs every waiting batch now (the server is closing). */
  flush(): void {
    for (const batcher of this.batchers.values()) batcher.flush();
  }

  private batcherOf(model: string): Batcher<Pending> {
    let batcher = this.batchers.get(model);
    if (!batcher) {
      batcher = new Batcher<Pending>(this.settings, (pending) => this.predictBatch(model, pending));
      this.batchers.set(model, batcher);
    }
    return batcher;
  }

  /** Synchronous from routing to predict: the predictors picked cannot be swapped out and disposed meanwhile. */
  private predictBatch(model: string, pending: Pending[]): void {
    const byVersion = new Map<string, { target: Target; requests: Pending[] }>();
    for (const request of pending) {
      try {
        const target =
          request.version === undefined
            ? this.deployments.pick(model, request.routingKey)
            : this.deployments.target(model, request.version);
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
    for (const { target, requests } of byVersion.values()) this.predictGroup(model, target, requests);
  }

  private predictGroup(model: string, target: Target, requests: Pending[]): void {
    const guarded = requests.map((r) => guardInputRange(r.rows, target.predictor.preprocessor));
    const started = performance.now();
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
    this.observe(
      model,
      target,
      outputs.reduce((n, o) => n + o.length, 0),
      requests.map((r) => (started - r.queuedAt) / 1000),
    );
    requests.forEach((request, i) => {
      try {
        const served = answer(model, target, request.rows, outputs[i], guarded[i].warnings);
        this.log.predictions(served.logged).then(() => request.resolve({ target, predictions: served.answers }), request.reject);
      } catch (error) {
        request.reject(error);
      }
    });
  }
}
