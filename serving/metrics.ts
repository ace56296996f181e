/**
 * The model server's Prometheus metrics, `GET /metrics` in the text exposition format. Names
 * follow BentoML's (`bentoml_service_request_total`, `..._request_duration_seconds`,
 * `..._adaptive_batch_size`) with MLServer's words for the model log; the README lists them.
 *
 * One registry per server, so that several servers in one process (tests) count apart. Labels
 * stay bounded whatever clients send: endpoints are route templates, and a model is named only
 * when this server has a deployment of it. Nothing secret is a label: no API keys or their names,
 * no tokens, no inputs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PredictionLog, Role } from '../adapters/store/index.ts';
import { countBy } from '../core/metrics/shared.ts';
import type { CommitObserver } from './log-writer.ts';
import type { BatchObserver } from './predict.ts';

/** Seconds: a one-row predict takes well under a millisecond of model time, a 1,000-row one tens. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Rows; a request carries at most 1,000. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** A model's versions in service on this server, as /metrics reports them. */
export interface InService {
  model: string;
  champion: { version: string };
  canary?: { version: string; weight: number };
  /** Only a shadow that is running: one that failed to load serves nobody. */
  shadow?: { version: string };
}

/** Who answered a request: set by the predict route once it picked a version. */
interface Served {
  version: string;
  role: Role;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly served = new WeakMap<FastifyRequest, Served>();

  private readonly requests = new Counter({
    name: 'perennial_request_total',
    help: 'HTTP requests answered, by endpoint (route template), model, version and role that answered, and status code',
    labelNames: ['endpoint', 'method', 'model', 'version', 'role', 'http_response_code'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'perennial_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, with the labels of perennial_request_total',
    labelNames: ['endpoint', 'method', 'model', 'version', 'role', 'http_response_code'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'perennial_batch_size',
    help: 'Rows predicted in one model call (a dynamic batch of one or more requests routed to the same version)',
    labelNames: ['model', 'version', 'role'],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly queueDelay = new Histogram({
    name: 'perennial_batch_queue_delay_seconds',
    help: 'Time a predict request waited for its batch to run (dynamic batching)',
    labelNames: ['model'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly predictions = new Counter({
    name: 'perennial_predictions_total',
    help: 'Predictions (rows) committed to the log',
    labelNames: ['model', 'version', 'role'],
    registers: [this.registry],
  });
  private readonly feedback = new Counter({
    name: 'perennial_feedback_total',
    help: 'Feedback items committed to the log, by kind (label, accepted, overridden)',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  private readonly labelQueueFeedback = new Counter({
    name: 'perennial_label_queue_feedback_total',
    help: 'Feedback items committed for predictions that the label queue had offered (a subset of perennial_feedback_total)',
    labelNames: ['model'],
    registers: [this.registry],
  });
  private readonly commitDuration = new Histogram({
    name: 'perennial_log_commit_duration_seconds',
    help: 'Time of one group commit of the prediction and feedback log (one transaction); log is predictions, feedback or mixed',
    labelNames: ['log'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly deploymentsFollowed = new Counter({
    name: 'perennial_deployment_follow_total',
    help: 'Deployment changes made by another process (a replica, the worker) and applied here, by outcome: ok, or failed (a version did not load; the old deployment kept serving)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  /**
   * The versions in service, read at each scrape: this server knows each change as it serves it (a
   * canary step, a rollback, a replica's change it followed), where the worker would see a champion
   * only at its next monitoring cycle and a canary never.
   */
  private inService: () => InService[] = () => [];
  private readonly deploymentInfo = new Gauge({
    name: 'perennial_deployment_info',
    help: 'The versions this server has in service: 1 for each model, role (champion, canary, shadow) and version',
    labelNames: ['model', 'role', 'version'],
    registers: [this.registry],
    collect: () => this.collectDeployments(),
  });
  private readonly canaryWeight = new Gauge({
    name: 'perennial_deployment_canary_weight',
    help: "The canary's share of the model's predict requests, while it has a canary",
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => this.collectCanaryWeights(),
  });

  /**
   * @param processMetrics also expose prom-client's process and Node.js metrics (memory, CPU,
   *   event-loop lag, GC); for a server that is its process's only one, as they are per process.
   */
  constructor(processMetrics = false) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Adds `GET /metrics` and the request metrics of every other route. `deployed` says whether a
   * model name is one this server has a deployment of: any other stays out of the labels.
   */
  register(app: FastifyInstance, deployed: (model: string) => boolean): void {
    app.get('/metrics', async (_request, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()));
    app.addHook('onResponse', async (request, reply) => {
      const endpoint = request.routeOptions.url ?? 'unmatched';
      if (endpoint === '/metrics') return;
      const model = (request.params as { model?: unknown } | undefined)?.model;
      const served = this.served.get(request);
      const labels = {
        endpoint,
        method: request.method,
        model: typeof model === 'string' && deployed(model) ? model : '',
        version: served?.version ?? '',
        role: served?.role ?? '',
        http_response_code: String(reply.statusCode),
      };
      this.requests.inc(labels);
      this.duration.observe(labels, reply.elapsedTime / 1000);
    });
  }

  /** Where the deployments' metrics read the versions in service. */
  observeDeployments(inService: () => InService[]): void {
    this.inService = inService;
  }

  private collectDeployments(): void {
    this.deploymentInfo.reset();
    for (const { model, champion, canary, shadow } of this.inService()) {
      this.deploymentInfo.set({ model, role: 'champion', version: champion.version }, 1);
      if (canary) this.deploymentInfo.set({ model, role: 'canary', version: canary.version }, 1);
      if (shadow) this.deploymentInfo.set({ model, role: 'shadow', version: shadow.version }, 1);
    }
  }

  private collectCanaryWeights(): void {
    this.canaryWeight.reset();
    for (const { model, canary } of this.inService()) if (canary) this.canaryWeight.set({ model, version: canary.version }, canary.weight);
  }

  /** Who answered the request (its version and role), for the request metrics. */
  servedBy(request: FastifyRequest, served: Served): void {
    this.served.set(request, { version: served.version, role: served.role });
  }

  /** A deployment change made elsewhere, followed or not (serving/deployment-sync.ts). */
  readonly deploymentFollowed = (model: string, ok: boolean): void => {
    this.deploymentsFollowed.inc({ model, outcome: ok ? 'ok' : 'failed' });
  };

  /** One tensor call of `rows` rows, and how long each request in it waited for its batch to run (serving/predict.ts). */
  readonly predictBatch: BatchObserver = (model, target, rows, waitedSeconds) => {
    this.batchSize.observe({ model, version: target.version, role: target.role }, rows);
    for (const waited of waitedSeconds) this.queueDelay.observe({ model }, waited);
  };

  /**
   * One group commit of the log (serving/log-writer.ts): its time is the commit latency a response
   * waits for, and only the writes it stored are counted.
   */
  readonly logCommitted: CommitObserver = (writes, results, seconds) => {
    const kinds = new Set(writes.map((w) => w.kind));
    this.commitDuration.observe({ log: kinds.size === 1 ? writes[0].kind : 'mixed' }, seconds);
    writes.forEach((write, i) => {
      const result = results?.[i];
      if (!result?.ok) return;
      if (write.kind === 'predictions') return this.countPredictions(write.rows);
      for (const [kind, n] of countBy(write.items.map((item) => item.kind ?? 'label'))) this.feedback.inc({ model: write.model, kind }, n);
      if (result.offered) this.labelQueueFeedback.inc({ model: write.model }, result.offered);
    });
  };

  private countPredictions(rows: PredictionLog[]): void {
    // Rows of one request share their labels: one increment per run of equal labels.
    for (let i = 0; i < rows.length;) {
      const { model, version, role } = rows[i];
      let j = i + 1;
      while (j < rows.length && rows[j].model === model && rows[j].version === version && rows[j].role === role) j++;
      this.predictions.inc({ model, version, role }, j - i);
      i = j;
    }
  }
}
