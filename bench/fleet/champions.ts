/**
 * A fleet's champions without a sweep per model: the first model trains through its own lifecycle
 * (sweep, registration, deployment), and every other model gets a registered copy of that champion
 * before its lifecycle starts: a version of its own in MLflow, made from the same run and artifacts,
 * with the `champion` alias, deployed on the model server. A lifecycle adopts the champion it finds
 * (currentChampion), as one registered over an existing model does. Monitoring, serving and the
 * store stay per model; only set-up time is saved (an hour of sweeps at 1,000 models).
 */
import { request } from 'undici';
import type { ModelVersion } from '../../adapters/mlflow/schemas.ts';
import type { LocalStack } from '../../stack/local.ts';
import { BENCH_TOKEN } from '../shared/stack.ts';

export async function championOf(stack: LocalStack, model: string): Promise<ModelVersion> {
  const version = await stack.mlflow.getVersionByAlias(model, 'champion');
  if (!version) throw new Error(`${model} has no champion to copy`);
  return version;
}

export async function copyChampion(stack: LocalStack, template: ModelVersion, model: string): Promise<void> {
  await stack.mlflow.ensureRegisteredModel(model, `fleet benchmark: a copy of ${template.name} v${template.version}`);
  const { version } = await stack.mlflow.findOrCreateModelVersion({
    name: model,
    source: template.source,
    runId: template.runId,
    tags: template.tags,
  });
  await stack.mlflow.setAlias(model, 'champion', version.version);
  const response = await request(`${stack.servingUrl}/admin/models/${encodeURIComponent(model)}/deployment`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ champion: { version: version.version }, reason: 'fleet benchmark set-up' }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 400) throw new Error(`deploying ${model} v${version.version}: ${response.statusCode} ${text}`);
}
