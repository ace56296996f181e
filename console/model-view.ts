/**
 * Everything one model's page shows, gathered per request: the lifecycle's status query (the
 * timeline of decisions, the champion, the running retrain), the retrain's status and start
 * input when one runs, and from MLflow the monitoring runs' metrics by cycle, their drift
 * reports, and the sweep that found the challenger. MLflow is read only: an MLflow outage
 * leaves the page with what Temporal knows and says what is missing.
 */
import type { MlflowClient, MlflowRun } from '../adapters/mlflow/client.ts';
import type { PerennialClient } from '../client/client.ts';
import type { LifecycleStatus, RetrainStatus } from '../core/messages.ts';
import { lifecycleWorkflowId } from '../core/messages.ts';
import type { TrialSummary } from '../core/sweep-loop.ts';
import { retrainStart, type RetrainStart } from './workflow-input.ts';

/** The monitoring metrics the charts draw (activities/monitor.ts logs them as `monitoring/<name>` by cycle). */
export const CHARTED_METRICS = [
  'accuracy',
  'estimated_accuracy',
  'drifted_share',
  'low_confidence_share',
  'anomaly_rate',
  'rmse',
  'mae',
  'new_rows',
  'labelled',
] as const;
export type ChartedMetric = (typeof CHARTED_METRICS)[number];

/** How many champions back the charts reach: each costs a metric request per charted metric. */
const CHAMPIONS_CHARTED = 3;

export interface MetricSample {
  metric: ChartedMetric;
  version: string;
  cycle: number;
  /** The cycle's time (ISO). */
  at: string;
  value: number;
}

export interface MonitoringRun {
  version: string;
  experimentId: string;
  runId: string;
  /** Cycles with a drift report (monitoring/cycle-NNNN/drift.html), newest first. */
  reports: number[];
}

export interface RetrainView {
  workflowId: string;
  runId?: string;
  status: RetrainStatus;
  start?: RetrainStart;
  /** The retrain's MLflow run (from the challenger version's tag) and its sweep's summary. */
  mlflowRun?: { experimentId: string; runId: string };
  sweep?: { trials: TrialSummary[]; best: TrialSummary; stoppedBy: string | null; objective: string };
}

export interface ModelView {
  model: string;
  status: LifecycleStatus;
  lifecycleRunId?: string;
  champion?: { version: string; experimentId: string; runId: string };
  monitoring: MonitoringRun[];
  samples: MetricSample[];
  retrain?: RetrainView;
  /** What could not be read, and why (MLflow down, a query that timed out): shown, not thrown. */
  problems: string[];
}

export async function modelView(client: PerennialClient, mlflow: MlflowClient, model: string): Promise<ModelView> {
  const status = await client.status(model);
  const problems: string[] = [];
  const note = (what: string) => (err: Error) => {
    problems.push(`${what}: ${err.message}`);
    return undefined;
  };
  const [lifecycleRunId, retrain, monitoring] = await Promise.all([
    client.temporal.workflow
      .getHandle(lifecycleWorkflowId(model))
      .describe()
      .then((d) => d.runId, note('the lifecycle workflow')),
    status.activeRetrain ? retrainView(client, mlflow, model, status.activeRetrain.workflowId, note) : undefined,
    monitoringOf(mlflow, model, status.championVersion).catch(note('MLflow monitoring runs')),
  ]);
  return { model, status, lifecycleRunId, retrain, problems, ...(monitoring ?? { monitoring: [], samples: [] }) };
}

type Note = (what: string) => (err: Error) => undefined;

async function retrainView(
  client: PerennialClient,
  mlflow: MlflowClient,
  model: string,
  workflowId: string,
  note: Note,
): Promise<RetrainView | undefined> {
  const [status, runId] = await Promise.all([
    client.retrainStatus(workflowId).catch(note(`the retrain's status (${workflowId})`)),
    client.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.runId, note(`the retrain workflow (${workflowId})`)),
  ]);
  if (!status) return undefined;
  const [start, mlflowPart] = await Promise.all([
    retrainStart(client.temporal, workflowId, runId).catch(note(`the retrain's start input (${workflowId})`)),
    status.challengerVersion ? retrainRunOf(mlflow, model, status.challengerVersion).catch(note('MLflow retrain run')) : undefined,
  ]);
  return { workflowId, runId, status, start, ...mlflowPart };
}

/** The retrain's MLflow run, tagged on the challenger version, and its sweep child's summary. */
async function retrainRunOf(mlflow: MlflowClient, model: string, challenger: string) {
  const version = await mlflow.getModelVersion(model, challenger);
  const retrainRunId = version.tags['perennial.retrain_run_id'];
  if (!retrainRunId) return {};
  const run = await mlflow.getRun(retrainRunId);
  const sweepRun = (await mlflow.childRuns(run.experimentId, run.runId)).find((r) => r.runName.endsWith('-sweep'));
  const sweep = sweepRun ? await sweepSummary(mlflow, sweepRun) : undefined;
  return { mlflowRun: { experimentId: run.experimentId, runId: run.runId }, sweep };
}

async function sweepSummary(mlflow: MlflowClient, run: MlflowRun): Promise<RetrainView['sweep']> {
  const bytes = await mlflow.downloadArtifact(run.artifactUri, 'sweep/summary.json');
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as RetrainView['sweep'];
}

/** The newest champions' monitoring runs, their charted metrics and their drift reports. */
async function monitoringOf(mlflow: MlflowClient, model: string, champion: string | undefined) {
  if (!champion) return { monitoring: [], samples: [] };
  // The champion's training run says which experiment holds the model's runs.
  const { experimentId } = await mlflow.getRun((await mlflow.getModelVersion(model, champion)).runId);
  const runs = (await mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'monitoring'"))
    .filter((r) => r.tags['perennial.model'] === model)
    .sort((a, b) => Number(b.tags['perennial.champion']) - Number(a.tags['perennial.champion']))
    .slice(0, CHAMPIONS_CHARTED);
  const monitoring = await Promise.all(
    runs.map(async (run) => ({
      version: run.tags['perennial.champion'],
      experimentId,
      runId: run.runId,
      reports: (await mlflow.listArtifacts(run.artifactUri, 'monitoring'))
        .map((entry) => /cycle-(\d+)$/.exec(entry.path))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => b - a),
    })),
  );
  const samples = (
    await Promise.all(
      runs.flatMap((run) =>
        CHARTED_METRICS.map(async (metric) =>
          (await mlflow.metricHistory(run.runId, `monitoring/${metric}`)).map((p) => ({
            metric,
            version: run.tags['perennial.champion'],
            cycle: p.step,
            at: new Date(p.timestamp ?? 0).toISOString(),
            value: p.value,
          })),
        ),
      ),
    )
  ).flat();
  return { monitoring, samples };
}

/** The monitoring run of `version` and where its drift report of `cycle` is, for the report route. */
export async function driftReportOf(mlflow: MlflowClient, model: string, version: string, cycle: number): Promise<Uint8Array> {
  const { experimentId } = await mlflow.getRun((await mlflow.getModelVersion(model, version)).runId);
  const run = (await mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'monitoring'")).find(
    (r) => r.tags['perennial.model'] === model && r.tags['perennial.champion'] === version,
  );
  if (!run) throw new Error(`v${version} of ${model} has no monitoring run`);
  return mlflow.downloadArtifact(run.artifactUri, `${driftReportDir(cycle)}/drift.html`);
}

/** Where activities/monitor.ts writes a cycle's drift report in the monitoring run's artifacts. */
export const driftReportDir = (cycle: number) => `monitoring/cycle-${String(cycle).padStart(4, '0')}`;
