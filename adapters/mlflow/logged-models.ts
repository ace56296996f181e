/**
 * MLflow 3 logged models: a model as an entity of its own (id `m-...`, its own artifact folder),
 * made by a run and registered as versions with `source: models:/<id>`. MlflowClient's methods
 * of the same names.
 *
 * A logged model is created PENDING, gets its files, then is finalized READY. Creation is keyed
 * by a `perennial.key` tag like runs are, so a retried activity finds the model it created
 * before (even one left PENDING by a crash) instead of making a second one.
 */
import { z } from 'zod';
import { type MlflowHttp } from './http.ts';
import { keyValues, literal } from './checks.ts';
import { toRecord } from './schemas.ts';

const KEY_TAG = 'perennial.key';

/** A logged model to find by `key`, or create. */
export interface NewLoggedModel {
  experimentId: string;
  /** Stored as the `perennial.key` tag. */
  key: string;
  name: string;
  modelType: string;
  sourceRunId: string;
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactUri: string;
  status: 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED' | string;
  sourceRunId: string;
  creationTime: number;
  tags: Record<string, string>;
}

const KeyValues = z.array(z.object({ key: z.string(), value: z.string().default('') })).default([]);
const LoggedModelSchema = z.object({
  info: z.object({
    model_id: z.string(),
    experiment_id: z.string(),
    name: z.string().default(''),
    artifact_uri: z.string(),
    status: z.string().default(''),
    source_run_id: z.string().default(''),
    creation_timestamp_ms: z.coerce.number().default(0),
    tags: KeyValues,
  }),
});

function toLoggedModel({ info }: z.infer<typeof LoggedModelSchema>): LoggedModel {
  return {
    modelId: info.model_id,
    experimentId: info.experiment_id,
    name: info.name,
    artifactUri: info.artifact_uri,
    status: info.status,
    sourceRunId: info.source_run_id,
    creationTime: info.creation_timestamp_ms,
    tags: toRecord(info.tags),
  };
}

/**
 * The logged model keyed `key` in the experiment, created if there is none. Concurrent creators
 * keep the oldest (then lowest id) and delete their own if it lost, as findOrCreateRun does.
 */
export async function findOrCreateLoggedModel(http: MlflowHttp, input: NewLoggedModel): Promise<{ model: LoggedModel; created: boolean }> {
  const found = await byKey(http, input.experimentId, input.key);
  if (found.length > 0) return { model: found[0], created: false };
  const { model } = await http.json(z.object({ model: LoggedModelSchema }), 'POST', '/mlflow/logged-models', {
    json: {
      experiment_id: input.experimentId,
      name: input.name,
      model_type: input.modelType,
      source_run_id: input.sourceRunId,
      params: keyValues('logged model param', input.params ?? {}),
      tags: keyValues('logged model tag', { ...input.tags, [KEY_TAG]: input.key }),
    },
  });
  const mine = toLoggedModel(model);
  const [winner, ...losers] = await byKey(http, input.experimentId, input.key);
  if (winner.modelId === mine.modelId) {
    for (const loser of losers) await deleteLoggedModel(http, loser.modelId);
    return { model: mine, created: true };
  }
  await deleteLoggedModel(http, mine.modelId);
  return { model: winner, created: false };
}

/** Oldest first, then by id: every racer sorts the same way. */
async function byKey(http: MlflowHttp, experimentId: string, key: string): Promise<LoggedModel[]> {
  const Page = z.object({ models: z.array(LoggedModelSchema).default([]) });
  const { models } = await http.json(Page, 'POST', '/mlflow/logged-models/search', {
    json: { experiment_ids: [experimentId], filter: `tags.\`${KEY_TAG}\` = ${literal(key)}`, max_results: 50 },
  });
  return models.map(toLoggedModel).sort((a, b) => a.creationTime - b.creationTime || a.modelId.localeCompare(b.modelId));
}

async function deleteLoggedModel(http: MlflowHttp, modelId: string): Promise<void> {
  await http.send('DELETE', `/mlflow/logged-models/${encodeURIComponent(modelId)}`);
}

export async function getLoggedModel(http: MlflowHttp, modelId: string): Promise<LoggedModel> {
  const { model } = await http.json(z.object({ model: LoggedModelSchema }), 'GET', `/mlflow/logged-models/${encodeURIComponent(modelId)}`);
  return toLoggedModel(model);
}

/** Marks the model READY: its files are all uploaded. */
export async function finalizeLoggedModel(http: MlflowHttp, modelId: string): Promise<void> {
  await http.send('PATCH', `/mlflow/logged-models/${encodeURIComponent(modelId)}`, {
    json: { model_id: modelId, status: 'LOGGED_MODEL_READY' },
  });
}

/**
 * Records the model as an output of the run at `step` (the run's Logged models in the UI). MLflow
 * refuses the same link twice, so the run's outputs are read first.
 */
export async function logModelOutput(http: MlflowHttp, runId: string, modelId: string, step: number): Promise<void> {
  const Outputs = z.object({
    run: z.object({
      outputs: z.object({ model_outputs: z.array(z.object({ model_id: z.string() })).default([]) }).prefault({}),
    }),
  });
  const { run } = await http.json(Outputs, 'GET', '/mlflow/runs/get', { query: { run_id: runId } });
  if (run.outputs.model_outputs.some((o) => o.model_id === modelId)) return;
  await http.send('POST', '/mlflow/runs/outputs', { json: { run_id: runId, models: [{ model_id: modelId, step }] } });
}
