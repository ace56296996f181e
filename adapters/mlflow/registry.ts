/** MLflow's model registry: registered models, their versions, tags and aliases. MlflowClient's methods of the same names. */
import { z } from 'zod';
import { hasCode, orUndefined, type MlflowHttp } from './http.ts';
import { checkAlias, checkKey, keyValues, literal } from './checks.ts';
import {
  ModelVersionSchema,
  RegisteredModelSchema,
  toModelVersion,
  type ModelVersion,
  type RawModelVersion,
  type RegisteredModel,
} from './schemas.ts';

export async function ensureRegisteredModel(http: MlflowHttp, name: string, description?: string): Promise<void> {
  try {
    await http.send('POST', '/mlflow/registered-models/create', { json: { name, description } });
  } catch (error) {
    if (!hasCode(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
  }
}

export async function findOrCreateModelVersion(
  http: MlflowHttp,
  input: { name: string; source: string; runId: string; modelId?: string; tags?: Record<string, string> },
): Promise<{ version: ModelVersion; created: boolean }> {
  const existing = await versionsFromRun(http, input.name, input.runId);
  if (existing.length > 0) return { version: await settleVersions(http, input.name, existing), created: false };

  const { model_version: created } = await http.json(
    z.object({ model_version: ModelVersionSchema }),
    'POST',
    '/mlflow/model-versions/create',
    {
      json: {
        name: input.name,
        source: input.source,
        run_id: input.runId,
        ...(input.modelId ? { model_id: input.modelId } : {}),
        tags: keyValues('model version tag', input.tags ?? {}),
      },
    },
  );
  const kept = await settleVersions(http, input.name, await versionsFromRun(http, input.name, input.runId));
  return { version: kept, created: kept.version === created.version };
}

async function versionsFromRun(http: MlflowHttp, name: string, runId: string): Promise<RawModelVersion[]> {
  const Page = z.object({ model_versions: z.array(ModelVersionSchema).default([]) });
  const filter = `name = ${literal(name)} AND run_id = ${literal(runId)}`;
  return (await http.json(Page, 'GET', '/mlflow/model-versions/search', { query: { filter } })).model_versions;
}

/** Keeps the lowest version and deletes the rest: MLflow numbers versions in commit order, so whoever created a higher one also sees the lowest and settles on it too. */
async function settleVersions(http: MlflowHttp, name: string, versions: RawModelVersion[]): Promise<ModelVersion> {
  const [kept, ...extra] = [...versions].sort((a, b) => Number(a.version) - Number(b.version));
  for (const { version } of extra) {
    // Another racer may have deleted it already.
    await orUndefined(http.send('DELETE', '/mlflow/model-versions/delete', { json: { name, version } }), 'RESOURCE_DOES_NOT_EXIST');
  }
  // Read it again: search results leave out aliases.
  return getModelVersion(http, name, kept.version);
}

export async function getModelVersion(http: MlflowHttp, name: string, version: string): Promise<ModelVersion> {
  const response = await http.json(z.object({ model_version: ModelVersionSchema }), 'GET', '/mlflow/model-versions/get', {
    query: { name, version },
  });
  return toModelVersion(response.model_version);
}

export async function setModelVersionTag(http: MlflowHttp, name: string, version: string, key: string, value: string): Promise<void> {
  await http.send('POST', '/mlflow/model-versions/set-tag', { json: { name, version, key: checkKey('model version tag', key), value } });
}

export async function setAlias(http: MlflowHttp, name: string, alias: string, version: string): Promise<void> {
  await http.send('POST', '/mlflow/registered-models/alias', { json: { name, alias: checkAlias(alias), version } });
}

export async function getVersionByAlias(http: MlflowHttp, name: string, alias: string): Promise<ModelVersion | undefined> {
  // MLflow answers a missing alias with INVALID_PARAMETER_VALUE, which it also uses for a
  // malformed alias name; checking the name first leaves "not set" as the only meaning.
  checkAlias(alias);
  const response = http.json(z.object({ model_version: ModelVersionSchema }), 'GET', '/mlflow/registered-models/alias', {
    query: { name, alias },
  });
  const version = await orUndefined(response, 'INVALID_PARAMETER_VALUE', 'RESOURCE_DOES_NOT_EXIST');
  return version && toModelVersion(version.model_version);
}

export async function deleteAlias(http: MlflowHttp, name: string, alias: string): Promise<void> {
  await http.send('DELETE', '/mlflow/registered-models/alias', { json: { name, alias: checkAlias(alias) } });
}

export async function getRegisteredModel(http: MlflowHttp, name: string): Promise<RegisteredModel | undefined> {
  const response = http.json(z.object({ registered_model: RegisteredModelSchema }), 'GET', '/mlflow/registered-models/get', {
    query: { name },
  });
  const found = await orUndefined(response, 'RESOURCE_DOES_NOT_EXIST');
  if (!found) return undefined;
  const model = found.registered_model;
  return {
    name: model.name,
    aliases: Object.fromEntries(model.aliases.map(({ alias, version }) => [alias, version])),
    latestVersions: model.latest_versions.map(({ version }) => version),
  };
}
