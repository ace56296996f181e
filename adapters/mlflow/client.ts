/**
 * Perennial's MLflow REST client (MLflow 3.x, proxied artifacts): one class, `MlflowClient`, whose
 * methods are implemented by concern in http.ts (transport, retries, MlflowError), tracking.ts
 * (experiments and runs), registry.ts (registered models, versions, aliases) and artifacts.ts.
 *
 * Activities call it under Temporal retries and it retries transient failures itself, so every
 * request it sends is idempotent: reads; overwrites (tags, aliases, run status, artifacts);
 * metric points with fixed timestamps, which MLflow drops when logged twice; and creates keyed
 * by a name or a `perennial.key` tag that search before creating and settle races after.
 * Keep it that way when adding endpoints, or exclude the new one from retries.
 */
import { MlflowHttp } from './http.ts';
import * as tracking from './tracking.ts';
import * as registry from './registry.ts';
import * as artifacts from './artifacts.ts';
import * as loggedModels from './logged-models.ts';
import { logDatasetInputs, type DatasetInput } from './datasets.ts';
import type { LoggedModel, NewLoggedModel } from './logged-models.ts';
import type { ArtifactEntry, MetricPoint, MlflowRun, ModelVersion, RegisteredModel } from './schemas.ts';

export { MlflowError } from './http.ts';
export type { ArtifactEntry, MetricPoint, MlflowRun, ModelVersion, RegisteredModel } from './schemas.ts';
export type { LoggedModel } from './logged-models.ts';
export type { DatasetInput } from './datasets.ts';

export class MlflowClient {
  /** Normalized, without a trailing slash. */
  readonly baseUrl: string;
  readonly #http: MlflowHttp;
  readonly #raceSettleMs: number;

  /**
   * `retries`: extra attempts after a 429, a 5xx or a connection failure (default 2, after 200
   * then 400 ms). `timeoutMs`: for connecting, for the response to start and for each pause
   * while it streams (default 30 s). `raceSettleMs`: how long a new keyed run waits for
   * concurrent creators of the same key before the winner is chosen (default 1 s; see findOrCreateRun).
   */
  constructor(baseUrl: string, options: { retries?: number; timeoutMs?: number; raceSettleMs?: number } = {}) {
    this.#http = new MlflowHttp(baseUrl, options);
    this.baseUrl = this.#http.baseUrl;
    this.#raceSettleMs = options.raceSettleMs ?? 1000;
  }

  /** Closes pooled connections; the client is unusable afterwards. */
  async close(): Promise<void> {
    await this.#http.close();
  }

  // ---- Experiments ----

  /** Get by name or create (race-safe); restores a deleted one. Tags it `mlflow.experimentKind=custom_model_development` so the UI opens the training view, not the GenAI one. */
  getOrCreateExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    return tracking.getOrCreateExperiment(this.#http, name, tags);
  }

  /** Ids of the active experiments matching `filter` (MLflow's syntax, e.g. `name LIKE 'perennial/%'`). */
  searchExperiments(filter: string): Promise<string[]> {
    return tracking.searchExperiments(this.#http, filter);
  }

  // ---- Runs ----

  /**
   * Idempotent run creation keyed by the tag `perennial.key`: reuses the run with that key if
   * there is one (restoring it if it was deleted) and creates it otherwise. Concurrent creators
   * of one key settle on a single run without a lock (tracking.ts says how).
   */
  findOrCreateRun(input: {
    experimentId: string;
    key: string;
    runName: string;
    parentRunId?: string;
    tags?: Record<string, string>;
    startTime?: number;
  }): Promise<{ run: MlflowRun; created: boolean }> {
    return tracking.findOrCreateRun(this.#http, this.#raceSettleMs, input);
  }

  getRun(runId: string): Promise<MlflowRun> {
    return tracking.getRun(this.#http, runId);
  }

  /** Active runs, following page tokens. `filter` uses MLflow's filter syntax (AND only, backquoted keys). */
  searchRuns(experimentIds: string[], filter?: string, options: { orderBy?: string[]; maxResults?: number } = {}): Promise<MlflowRun[]> {
    return tracking.searchRuns(this.#http, experimentIds, filter, options);
  }

  childRuns(experimentId: string, parentRunId: string): Promise<MlflowRun[]> {
    return tracking.childRuns(this.#http, experimentId, parentRunId);
  }

  /**
   * Logs in as many requests as MLflow's per-request limits need. Points without a timestamp
   * all get the same one, so a retried request repeats identical points, which MLflow drops;
   * pass timestamps to make a whole activity retry idempotent too. Re-logging a param with
   * the same value is fine; with a different value it is an MlflowError (INVALID_PARAMETER_VALUE).
   */
  logBatch(
    runId: string,
    batch: { metrics?: MetricPoint[]; params?: Record<string, string | number | boolean>; tags?: Record<string, string> },
  ): Promise<void> {
    return tracking.logBatch(this.#http, runId, batch);
  }

  setTag(runId: string, key: string, value: string): Promise<void> {
    return tracking.setTag(this.#http, runId, key, value);
  }

  finishRun(runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime = Date.now()): Promise<void> {
    return tracking.finishRun(this.#http, runId, status, endTime);
  }

  metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return tracking.metricHistory(this.#http, runId, key);
  }

  /** The run's training (or evaluation) data as MLflow dataset inputs; logging one twice changes nothing. */
  logDatasetInputs(runId: string, inputs: DatasetInput[]): Promise<void> {
    return logDatasetInputs(this.#http, runId, inputs);
  }

  // ---- Logged models (MLflow 3) ----

  /** Idempotent by `key` (a `perennial.key` tag); a model left PENDING by a crash is found again, not duplicated. */
  findOrCreateLoggedModel(input: NewLoggedModel): Promise<{ model: LoggedModel; created: boolean }> {
    return loggedModels.findOrCreateLoggedModel(this.#http, input);
  }

  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return loggedModels.getLoggedModel(this.#http, modelId);
  }

  finalizeLoggedModel(modelId: string): Promise<void> {
    return loggedModels.finalizeLoggedModel(this.#http, modelId);
  }

  /** Links the model to the run as its output at `step`; linking it again changes nothing. */
  logModelOutput(runId: string, modelId: string, step: number): Promise<void> {
    return loggedModels.logModelOutput(this.#http, runId, modelId, step);
  }

  // ---- Artifacts (through the server's artifact proxy) ----

  /** Writes `path` (relative to `artifactUri`), overwriting what is there. */
  uploadArtifact(artifactUri: string, path: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    return artifacts.uploadArtifact(this.#http, artifactUri, path, body, contentType);
  }

  downloadArtifact(artifactUri: string, path: string): Promise<Uint8Array> {
    return artifacts.downloadArtifact(this.#http, artifactUri, path);
  }

  /** Direct children of `path`; a missing directory lists as empty. */
  listArtifacts(artifactUri: string, path = ''): Promise<ArtifactEntry[]> {
    return artifacts.listArtifacts(this.#http, artifactUri, path);
  }

  // ---- Model registry ----

  ensureRegisteredModel(name: string, description?: string): Promise<void> {
    return registry.ensureRegisteredModel(this.#http, name, description);
  }

  /**
   * Idempotent: returns the version of `name` registered from `runId` if there is one, and
   * only creates one otherwise; concurrent attempts all settle on the lowest version and
   * delete the rest. `source` is `models:/<logged model id>`, or a run's
   * `${run.artifactUri}/model` for models trained before logged models.
   */
  findOrCreateModelVersion(input: {
    name: string;
    source: string;
    runId: string;
    /** The logged model it registers (MLflow 3), with `source` = `models:/<modelId>`. */
    modelId?: string;
    tags?: Record<string, string>;
  }): Promise<{ version: ModelVersion; created: boolean }> {
    return registry.findOrCreateModelVersion(this.#http, input);
  }

  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return registry.getModelVersion(this.#http, name, version);
  }

  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    return registry.setModelVersionTag(this.#http, name, version, key, value);
  }

  /** Points `alias` at `version`, moving it if it pointed elsewhere. */
  setAlias(name: string, alias: string, version: string): Promise<void> {
    return registry.setAlias(this.#http, name, alias, version);
  }

  /** undefined when the alias is not set, including when the model is not registered yet. */
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    return registry.getVersionByAlias(this.#http, name, alias);
  }

  /** Removing an alias that is not set is fine. */
  deleteAlias(name: string, alias: string): Promise<void> {
    return registry.deleteAlias(this.#http, name, alias);
  }

  getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    return registry.getRegisteredModel(this.#http, name);
  }
}
