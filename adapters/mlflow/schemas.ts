/**
 * What the MLflow client hands its callers (MlflowRun, ModelVersion, ...), MLflow's proto-JSON
 * answers as zod schemas, and the mapping from one to the other.
 */
import { z } from 'zod';

export interface MlflowRun {
  runId: string;
  experimentId: string;
  runName: string;
  status: string;
  artifactUri: string;
  startTime: number;
  tags: Record<string, string>;
  params: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
}

export interface ModelVersion {
  name: string;
  version: string;
  runId: string;
  source: string;
  tags: Record<string, string>;
  aliases: string[];
  status: string;
}

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds; defaults to now. */
  timestamp?: number;
}

export interface ArtifactEntry {
  /** Relative to the artifact URI it was listed under, ready for `downloadArtifact`. */
  path: string;
  isDir: boolean;
  size?: number;
}

export interface RegisteredModel {
  name: string;
  /** alias -> version */
  aliases: Record<string, string>;
  latestVersions: string[];
}

// Proto-JSON: snake_case, empty lists and unset fields left out.
const KeyValues = z.array(z.object({ key: z.string(), value: z.string().default('') })).default([]);
// JSON has no NaN or Infinity, so proto-JSON spells them as strings.
const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);
export const MetricSchema = z.object({
  key: z.string(),
  value: MetricValue,
  step: z.number().default(0),
  timestamp: z.number().default(0),
});
export const RunSchema = z.object({
  info: z.object({
    run_id: z.string(),
    experiment_id: z.string(),
    run_name: z.string().default(''),
    status: z.string(),
    artifact_uri: z.string(),
    start_time: z.number().default(0),
    lifecycle_stage: z.string(),
  }),
  data: z.object({ tags: KeyValues, params: KeyValues, metrics: z.array(MetricSchema).default([]) }).prefault({}),
});
export type RawRun = z.infer<typeof RunSchema>;
export const ExperimentSchema = z.object({ experiment_id: z.string(), lifecycle_stage: z.string(), tags: KeyValues });
export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  run_id: z.string().default(''),
  source: z.string().default(''),
  status: z.string().default(''),
  tags: KeyValues,
  aliases: z.array(z.string()).default([]),
});
export type RawModelVersion = z.infer<typeof ModelVersionSchema>;
export const RegisteredModelSchema = z.object({
  name: z.string(),
  aliases: z.array(z.object({ alias: z.string(), version: z.string() })).default([]),
  latest_versions: z.array(z.object({ version: z.string() })).default([]),
});

export const nextPageToken = z.string().optional();

export type KeyValue = { key: string; value: string };

export function toRecord(pairs: KeyValue[]): Record<string, string> {
  return Object.fromEntries(pairs.map(({ key, value }) => [key, value]));
}

export function toRun({ info, data }: RawRun): MlflowRun {
  return {
    runId: info.run_id,
    experimentId: info.experiment_id,
    runName: info.run_name,
    status: info.status,
    artifactUri: info.artifact_uri,
    startTime: info.start_time,
    tags: toRecord(data.tags),
    params: toRecord(data.params),
    metrics: Object.fromEntries(data.metrics.map(({ key, value }) => [key, value])),
  };
}

export function toModelVersion(version: RawModelVersion): ModelVersion {
  return {
    name: version.name,
    version: version.version,
    runId: version.run_id,
    source: version.source,
    tags: toRecord(version.tags),
    aliases: version.aliases,
    status: version.status,
  };
}
