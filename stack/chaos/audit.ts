/**
 * What a retrain left in MLflow, counted the way every chaos scenario judges it: one run per
 * trial (none missing, none twice), no run left RUNNING, one registered version.
 */
import type { MlflowClient, MlflowRun } from '../../adapters/mlflow/client.ts';
import { experimentName } from '../../adapters/mlflow/model-files.ts';

export interface RetrainAudit {
  /** Trial numbers the sweep planned with no run. */
  missingTrials: number;
  /** Runs beyond the first for the same trial of the same sweep. */
  duplicateTrialRuns: number;
  trialRuns: number;
  /** Retrain runs: more than one for one retrain is a duplicate. */
  retrainRuns: number;
  /** A retrain's runs (retrain, sweep, trial, candidate) still RUNNING; a champion's monitoring run stays open by design. */
  runningRuns: number;
  registeredVersions: number;
}

const RETRAIN_KINDS = ['retrain', 'sweep', 'trial', 'candidate'];

export async function auditRetrain(mlflow: MlflowClient, model: string, plannedTrials: number): Promise<RetrainAudit> {
  const experimentId = await mlflow.getOrCreateExperiment(experimentName(model), { 'perennial.model': model });
  const runs = await mlflow.searchRuns([experimentId]);
  const trials = runs.filter((run) => run.tags['perennial.kind'] === 'trial');
  const perTrial = countBy(trials, (run) => `${run.tags['mlflow.parentRunId']}/${run.tags['perennial.trial']}`);
  const sweeps = new Set(trials.map((run) => run.tags['mlflow.parentRunId'])).size || 1;
  return {
    missingTrials: Math.max(0, plannedTrials * sweeps - perTrial.size),
    duplicateTrialRuns: trials.length - perTrial.size,
    trialRuns: trials.length,
    retrainRuns: runs.filter((run) => run.tags['perennial.kind'] === 'retrain').length,
    runningRuns: runs.filter((run) => RETRAIN_KINDS.includes(run.tags['perennial.kind']) && run.status === 'RUNNING').length,
    registeredVersions: await registeredVersions(mlflow, model),
  };
}

function countBy(runs: MlflowRun[], key: (run: MlflowRun) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(key(run), (counts.get(key(run)) ?? 0) + 1);
  return counts;
}

/** Versions of the registered model `model`; our client only searches by run, so ask the REST API directly. */
async function registeredVersions(mlflow: MlflowClient, model: string): Promise<number> {
  const url = new URL(`${mlflow.baseUrl}/api/2.0/mlflow/model-versions/search`);
  url.searchParams.set('filter', `name = '${model.replaceAll("'", "\\'")}'`);
  url.searchParams.set('max_results', '1000');
  const response = await fetch(url);
  if (!response.ok) throw new Error(`MLflow model-versions/search answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { model_versions?: unknown[] };
  return body.model_versions?.length ?? 0;
}
