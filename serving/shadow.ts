/**
 * Shadow traffic: when a deployment names a shadow version, it gets a copy of every predict
 * request once the response has gone out. Its predictions are logged with role 'shadow', each
 * linked to the served prediction of the same input (shadowOf), and never returned. Nothing the
 * shadow does reaches a client: a failure is logged, and that copy is dropped.
 */
import { predictionId } from './prediction-id.ts';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Prediction, Predictor } from '../ml/bundle.ts';
import type { PredictionLog } from '../adapters/store/index.ts';
import type { LogWriter } from './log-writer.ts';
import type { LiveDeployments } from './deployments.ts';
import { guardInputRange } from './input-range.ts';

type Row = Record<string, unknown>;

interface Copy {
  model: string;
  rows: Row[];
  /** The served predictions' ids, in row order. */
  servedIds: string[];
}

export class ShadowTraffic {
  private readonly pending = new WeakMap<FastifyRequest, Copy>();

  constructor(
    private readonly deployments: LiveDeployments,
    private readonly log: LogWriter,
  ) {}

  /** Sends each request's copy to the shadow once its response is sent. */
  register(app: FastifyInstance): void {
    app.addHook('onResponse', async (request) => {
      const copy = this.pending.get(request);
      if (!copy) return;
      this.pending.delete(request);
      this.predict(copy, request.log);
    });
  }

  /** Call once a request's predictions are served and logged; a model without a shadow costs nothing. */
  copy(request: FastifyRequest, model: string, rows: Row[], servedIds: string[]): void {
    if (this.deployments.shadow(model)) this.pending.set(request, { model, rows, servedIds });
  }

  private predict({ model, rows, servedIds }: Copy, log: FastifyBaseLogger): void {
    // Looked up again: the deployment may have changed since the request was served. From here to
    // the log no await, so the predictor cannot be disposed by a redeploy meanwhile.
    const shadow = this.deployments.shadow(model);
    if (!shadow) return;
    const { version, predictor } = shadow;
    const fail = (err: unknown) =>
      log.warn({ model, version, error: (err as Error).message }, 'shadow prediction failed; nothing logged for this request');
    try {
      const missing = predictor.features.filter((f) => rows.some((row) => !(f in row)));
      if (missing.length) throw new Error(`the rows lack features the shadow needs: ${missing.join(', ')}`);
      const outputs = predictor.predict(guardInputRange(rows, predictor.preprocessor).rows);
      const bad = outputs.findIndex((o) => !isFinite(o, predictor.task));
      if (bad >= 0) throw new Error(`row ${bad}: the shadow's output is not a finite number`);
      this.log.predictions(outputs.map((o, i) => logRow(model, version, predictor, rows[i], o, servedIds[i]))).catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}

function logRow(model: string, version: string, predictor: Predictor, row: Row, output: Prediction, shadowOf: string): PredictionLog {
  const features = Object.fromEntries(predictor.features.map((f) => [f, row[f]]));
  const base = { id: predictionId(), model, version, role: 'shadow' as const, task: predictor.task, features, shadowOf };
  return predictor.task === 'regression'
    ? { ...base, label: String(output.value), probabilities: {}, confidence: null }
    : { ...base, label: output.label, probabilities: output.probabilities, confidence: output.probabilities[output.label] };
}

function isFinite(output: Prediction, task: Predictor['task']): boolean {
  if (task === 'regression') return typeof output.value === 'number' && Number.isFinite(output.value);
  return Object.values(output.probabilities).every((p) => Number.isFinite(p));
}
