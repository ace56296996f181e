/**
 * The Open Inference Protocol (KServe V2 REST, as Triton and MLServer speak it) under /v2:
 * health, server and model metadata, readiness, and infer with JSON tensors or the binary tensor
 * data extension. Inference goes through the same pipeline as /v1 predict (serving/predict.ts):
 * routed between champion and canary, logged, and behind the model's API keys. A request to
 * /versions/{v} is served by that version if the deployment serves it (as champion or canary),
 * with no routing draw; `parameters.routingKey` makes the draw sticky, as /v1's `routingKey` does.
 * Errors are {"error": "..."}, as the protocol's clients expect.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Predictor } from '../../ml/bundle.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { InvalidRequestError, ServingError } from '../../core/errors.ts';
import type { ApiKeys } from '../api-keys.ts';
import type { Served, ServedClass, ServedValue } from '../answers.ts';
import type { LiveDeployments, Target } from '../deployments.ts';
import type { ServeRequest } from '../predict.ts';
import { routingKeyOf } from '../routing-key.ts';
import { featureInputs, modelMetadata, outputMetadata } from './metadata.ts';
import { encodeOutputs, parseBody, rowsFromInputs, wantsBinary, type InferRequest, type OutputTensor } from './tensors.ts';

export interface OpenInferenceOptions {
  apiKeys: ApiKeys;
  deployments: LiveDeployments;
  /** Predicts as /v1 does: batched, logged, counted and copied to the shadow. */
  serve: ServeRequest;
}

type ModelParams = { Params: { model: string; version?: string } };

const SERVER_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Registered with the prefix /v2; the body parser and error format stay inside it. */
export async function openInferenceRoutes(app: FastifyInstance, { apiKeys, deployments, serve }: OpenInferenceOptions): Promise<void> {
  // tritonclient sends binary bodies without a content type (and JSON ones as it likes), so every
  // body arrives as bytes and the infer route reads the JSON header and binary data itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ServingError) {
      if (err.status === 401) reply.header('www-authenticate', 'Bearer');
      if (err.status >= 500) request.log.error(err);
      return reply.status(err.status).send({ error: err.message });
    }
    // Fastify's own 4xx: body too large, malformed headers.
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: err.message });
    request.log.error(err);
    return reply.status(500).send({ error: 'internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `no Open Inference Protocol route ${request.method} ${request.url}` }),
  );

  app.get('/health/live', async () => ({ live: true }));

  // Ready when every persisted deployment loaded; the protocol answers "not ready" with a 4xx.
  app.get('/health/ready', async (_request, reply) => {
    const unavailable = Object.keys(deployments.unavailableModels());
    if (!unavailable.length) return { ready: true };
    return reply.status(400).send({ ready: false, error: `deployments not loaded: ${unavailable.join(', ')}` });
  });

  app.get('/', async () => ({ name: 'perennial', version: SERVER_VERSION, extensions: ['binary_tensor_data'] }));

  /** The versions a request is about: the one it names, or the whole deployment (champion first). */
  const targetsOf = ({ model, version }: ModelParams['Params']): Target[] =>
    version === undefined ? deployments.targets(model) : [deployments.target(model, version)];

  for (const path of ['/models/:model', '/models/:model/versions/:version']) {
    app.get<ModelParams>(path, async (request) => modelMetadata(request.params.model, targetsOf(request.params)));

    app.get<ModelParams>(`${path}/ready`, async (request) => {
      targetsOf(request.params); // a model or version that is not served answers 404 (or 503)
      return { name: request.params.model, ready: true };
    });

    app.post<ModelParams>(`${path}/infer`, async (request, reply) => {
      const { model, version } = request.params;
      await apiKeys.callerOf(request, model);
      const targets = targetsOf(request.params);
      const { request: infer, binary } = parseBody(request.body, request.headers['inference-header-content-length']);
      const features = featureInputs(targets);
      const rows = rowsFromInputs(infer.inputs, features, binary);
      // A named version is served as itself; the key is checked all the same.
      const routingKey = routingKeyOf(infer.parameters, 'parameters.routingKey', 'inference request');
      // Checked against the predictor that will answer once the batch has routed the request.
      requestedOutputs(infer, targets[0].predictor);
      const { target, predictions: served } = await serve(request, model, { rows, features: targets[0].features, version, routingKey });
      const names = requestedOutputs(infer, target.predictor);
      const tensors = outputTensors(target, served);
      const outputs = names.map((name) => ({
        ...tensors.find((t) => t.name === name)!,
        binary: wantsBinary(
          infer,
          infer.outputs?.find((o) => o.name === name),
        ),
      }));
      const encoded = encodeOutputs(responseHead(model, target, infer, served), outputs);
      if ('json' in encoded) return encoded.json;
      return reply.header('inference-header-content-length', encoded.headerLength).type('application/octet-stream').send(encoded.body);
    });
  }
}

function responseHead(model: string, target: Target, infer: InferRequest, served: Served[]): Record<string, unknown> {
  const warnings = served.flatMap((s, row) => (s.warnings ?? []).map((w) => `row ${row}: ${w}`));
  return {
    model_name: model,
    model_version: target.version,
    ...(infer.id === undefined ? {} : { id: infer.id }),
    // Parameters are scalars in the protocol, so the warnings travel as one string.
    parameters: { role: target.role, ...(warnings.length ? { warnings: warnings.join('; ') } : {}) },
  };
}

/** The outputs the request names (all of them when it names none); checked before anything is served. */
function requestedOutputs(infer: InferRequest, predictor: Predictor): string[] {
  const all = outputMetadata(predictor).map((o) => o.name);
  const names = infer.outputs?.map((o) => o.name) ?? all;
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length) throw new InvalidRequestError(`unknown outputs ${unknown.join(', ')}; the model's outputs are ${all.join(', ')}`);
  return names;
}

function outputTensors(target: Target, served: Served[]): OutputTensor[] {
  const { predictor } = target;
  const tensor = (name: string, values: number[] | string[]): OutputTensor => {
    const meta = outputMetadata(predictor).find((o) => o.name === name)!;
    return { ...meta, shape: meta.shape.map((d) => (d === -1 ? served.length : d)), values };
  };
  const ids = tensor(
    'id',
    served.map((s) => s.id),
  );
  // The answers come in the predictor's task: numbers from a regression model, classes otherwise.
  if (predictor.task === 'regression')
    return [
      tensor(
        'value',
        (served as ServedValue[]).map((s) => s.value),
      ),
      ids,
    ];
  const classes = served as ServedClass[];
  return [
    tensor(
      'label',
      classes.map((s) => s.label),
    ),
    tensor(
      'probabilities',
      classes.flatMap((s) => predictor.classes.map((c) => s.probabilities[c])),
    ),
    ids,
  ];
}
