/**
 * The model server: predictions routed between champion and canary (and copied to a shadow),
 * every prediction logged, delayed ground truth taken in (with its sender), the log exported, and
 * admin endpoints that set what is deployed and manage per-model API keys. A model with API keys
 * answers predict and feedback only to them. Bad input always gets a 4xx naming each problem; a
 * 500 means a bug or a broken dependency.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { ApiKeys } from './api-keys.ts';
import { LiveDeployments, type ModelLoader } from './deployments.ts';
import { ApiKeyExistsError, InvalidRequestError, ServingError, UnknownApiKeyError } from '../core/errors.ts';
import { adminOnly } from './admin-auth.ts';
import { ShadowTraffic } from './shadow.ts';
import { logExportRoutes } from './log-export.ts';
import { labelQueueRoutes } from './label-queue.ts';
import { ModelName } from './model-name.ts';
import { openInferenceRoutes } from './v2/routes.ts';
import { ServingMetrics } from './metrics.ts';
import { ANONYMOUS, type Store } from '../adapters/store/index.ts';
import { LogWriter } from './log-writer.ts';
import { PredictionBatches, type ServeRequest } from './predict.ts';
import { routingKeyOf } from './routing-key.ts';
import { explain } from './explain.ts';
import { MAX_ROWS } from './rows.ts';
import { batchSettingsFromEnv, type ServingBatchSettings } from './settings.ts';
import { deploymentSyncFromEnv, followDeployments, type DeploymentSyncSettings } from './deployment-sync.ts';

export interface ServerOptions {
  store: Store;
  loadModel: ModelLoader;
  adminToken: string;
  logger?: boolean;
  /** Process and Node.js metrics on /metrics too (serving/main.ts: one server per process). */
  processMetrics?: boolean;
  /** Dynamic batching of predictions and group commit of the log; default from the environment (serving/settings.ts). */
  batching?: ServingBatchSettings;
  /** How this server learns of deployment changes made by other processes; default from the environment (serving/deployment-sync.ts). */
  deploymentSync?: DeploymentSyncSettings;
}

const LabelText = z.string().min(1, 'label must not be empty');
/**
 * A class name, or a regression model's true value as a JSON number. Only the store knows which
 * the prediction needs (and refuses the other); anything else is refused here with the messages
 * of a string label.
 */
const Label = z.unknown().transform((value, ctx): string | number => {
  if (typeof value === 'number') return value;
  const text = LabelText.safeParse(value);
  if (text.success) return text.data;
  for (const issue of text.error.issues) ctx.addIssue(issue as never);
  return z.NEVER;
});

/**
 * Explicit feedback names the true label (a regression model's: the true value); implicit
 * feedback says the prediction was accepted or overridden (with the right label when the user
 * gave one).
 */
const Feedback = z
  .object({
    predictionId: z.string().min(1, 'predictionId is required'),
    kind: z.enum(['label', 'accepted', 'overridden']).default('label'),
    label: Label.optional(),
  })
  .superRefine((f, ctx) => {
    if (f.kind === 'label' && f.label === undefined)
      ctx.addIssue({ code: 'custom', path: ['label'], message: 'label is required (or send kind "accepted" or "overridden")' });
    if (f.kind === 'accepted' && f.label !== undefined)
      ctx.addIssue({ code: 'custom', path: ['label'], message: 'an accepted prediction takes no label: its label was right' });
  });
const FeedbackBatch = z.object({ feedback: z.array(Feedback).min(1, 'send at least one item').max(MAX_ROWS) });

const Version = z.string().regex(/^[1-9]\d*$/, 'a registered version number such as "3"');
const DeployBody = z
  .object({
    champion: z.object({ version: Version }),
    canary: z.object({ version: Version, weight: z.number().gt(0).lt(1) }).optional(),
    shadow: z.object({ version: Version }).optional(),
    reason: z.string().trim().min(1, 'say why the deployment changes'),
  })
  .refine((d) => d.canary?.version !== d.champion.version, {
    message: 'the canary must be another version than the champion',
    path: ['canary', 'version'],
  })
  .refine((d) => d.shadow === undefined || ![d.champion.version, d.canary?.version].includes(d.shadow.version), {
    message: 'the shadow must be another version than the champion and the canary',
    path: ['shadow', 'version'],
  });

/** Key names are the feedback sources that spec.training.feedback.sources lists. */
const ApiKeyName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'API key names are lower-case letters, digits, dashes and underscores')
  .refine((name) => name !== ANONYMOUS, `"${ANONYMOUS}" is the source of feedback sent without a key`);
const NewApiKey = z.object({ name: ApiKeyName });

type ModelParams = { Params: { model: string } };

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { store } = options;
  const metrics = new ServingMetrics(options.processMetrics);
  const deployments = new LiveDeployments(store, options.loadModel);
  const batching = options.batching ?? batchSettingsFromEnv();
  const log = new LogWriter(store, batching.log, metrics.logCommitted);
  const apiKeys = new ApiKeys(store);
  const predict = new PredictionBatches(deployments, log, batching.predict, metrics.predictBatch);
  const shadows = new ShadowTraffic(deployments, log);
  const app = Fastify({ logger: options.logger ?? false });
  shadows.register(app);
  metrics.register(app, (model) => deployments.has(model));
  metrics.observeDeployments(() =>
    deployments.list().map(({ model, champion, canary }) => ({ model, champion, canary, shadow: deployments.shadow(model) })),
  );
  /** Every protocol's predictions: batched and logged, counted for the request's metrics, copied to the shadow. */
  const serve: ServeRequest = async (request, model, rows) => {
    const result = await predict.serve(model, rows);
    metrics.servedBy(request, result.target);
    shadows.copy(
      request,
      model,
      rows.rows,
      result.predictions.map((p) => p.id),
    );
    return result;
  };

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ServingError) {
      if (err.status === 401) reply.header('www-authenticate', 'Bearer');
      if (err.status >= 500) request.log.error(err);
      return reply.status(err.status).send({ error: err.code, message: err.message });
    }
    // Fastify's own 4xx: malformed JSON, wrong content type, body too large.
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: err.code, message: err.message });
    request.log.error(err);
    return reply.status(500).send({ error: 'internal', message: 'internal error; see the server log' });
  });

  const failures = await deployments.restore();
  for (const { model, error } of failures) app.log.error({ model }, `deployment not restored: ${error}`);
  const settings = options.deploymentSync ?? deploymentSyncFromEnv();
  const stopFollowing = await followDeployments({ store, deployments, settings, log: app.log, followed: metrics.deploymentFollowed });
  app.addHook('onClose', async () => {
    await stopFollowing();
    predict.flush();
    await log.flush();
    deployments.close();
  });

  app.get('/healthz', async () => {
    const unavailable = deployments.unavailableModels();
    return Object.keys(unavailable).length ? { status: 'degraded', unavailable } : { status: 'ok' };
  });

  app.get('/v1/models', async () => ({ models: deployments.list() }));

  app.get<ModelParams>('/v1/models/:model/deployment', async (request) => deployments.state(request.params.model));

  app.post<ModelParams>('/v1/models/:model/predict', async (request) => {
    const { model } = request.params;
    await apiKeys.callerOf(request, model);
    const { rows, features } = deployments.readRows(model, request.body);
    const routingKey = routingKeyOf(request.body, 'routingKey');
    deployments.state(model); // 404 or 503 now, not after waiting for a batch
    const { predictions } = await serve(request, model, { rows, features, routingKey });
    return { predictions };
  });

  // Per-feature attributions of the champion's outputs (serving/explain.ts), behind the same keys as predict.
  app.post<ModelParams>('/v1/models/:model/explain', async (request) => {
    const { model } = request.params;
    await apiKeys.callerOf(request, model);
    return explain(deployments, model, request.body);
  });

  app.post<ModelParams>('/v1/models/:model/feedback', async (request) => {
    const body = request.body;
    const sender = await apiKeys.callerOf(request, request.params.model);
    const items = isObject(body) && 'feedback' in body ? parse(FeedbackBatch, body).feedback : [parse(Feedback, body)];
    await log.feedback(items, request.params.model, sender);
    return { accepted: items.length };
  });

  await app.register(logExportRoutes, { store, adminToken: options.adminToken });
  await app.register(labelQueueRoutes, { store, deployments, adminToken: options.adminToken });
  await app.register(openInferenceRoutes, { prefix: '/v2', apiKeys, deployments, serve });

  await app.register(
    async (admin) => {
      admin.addHook('onRequest', adminOnly(options.adminToken));

      admin.put<ModelParams>('/models/:model/deployment', async (request) => {
        const model = parse(ModelName, request.params.model, 'model name');
        const { state, changed } = await deployments.apply(model, parse(DeployBody, request.body));
        if (changed) request.log.info({ model, state }, 'deployment changed');
        return state;
      });

      admin.get('/batching', async () => ({ predict: predict.stats(), log: log.stats() }));

      // The first key of a model turns key checks on for its predict and feedback (for good).
      admin.post<ModelParams>('/models/:model/api-keys', async (request, reply) => {
        const model = parse(ModelName, request.params.model, 'model name');
        const { name } = parse(NewApiKey, request.body);
        const key = await apiKeys.add(model, name);
        if (key === undefined) throw new ApiKeyExistsError(model, name);
        request.log.info({ model, name }, 'API key created');
        return reply.status(201).send({ model, name, key, note: 'the key is shown only now; the server keeps its hash' });
      });

      admin.get<ModelParams>('/models/:model/api-keys', async (request) => {
        const model = parse(ModelName, request.params.model, 'model name');
        return { model, required: await store.requiresApiKey(model), keys: await store.listApiKeys(model) };
      });

      admin.delete<{ Params: { model: string; name: string } }>('/models/:model/api-keys/:name', async (request) => {
        const model = parse(ModelName, request.params.model, 'model name');
        const name = parse(ApiKeyName, request.params.name, 'API key name');
        const revoked = await apiKeys.revoke(model, name);
        if (!revoked) throw new UnknownApiKeyError(model, name);
        request.log.info({ model, name }, 'API key revoked');
        return revoked;
      });
    },
    { prefix: '/admin' },
  );

  return app;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what = 'request body'): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(`invalid ${what}:\n${formatIssues(result.error)}`);
  return result.data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
