/** Reading a retrain's result and its sweep's runs back from a test stack, once it finished. */
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { retrainWorkflowId } from '../../core/messages.ts';
import { eventually, type Stack } from './stack.ts';

/** Retrain #n of `model` once the lifecycle recorded its end: its outcome, the trigger line of that record, its decisions. */
export async function finishedRetrain(stack: Stack, model: string, n: number) {
  return eventually(
    `retrain #${n} of ${model} to finish`,
    async () => {
      const done = (await stack.client.status(model)).history.find((h) => h.what.startsWith(`retrain #${n}: `));
      if (!done) return undefined;
      const { decisions } = await stack.client.retrainStatus(retrainWorkflowId(model, n));
      return { outcome: done.what.slice(`retrain #${n}: `.length), trigger: done.reasons[0], decisions };
    },
    300_000,
  );
}

/** Retrain #n's sweep run and its trial runs, in trial order. */
export async function sweepOf(stack: Stack, model: string, n: number) {
  const runs = await stack.mlflow.searchRuns([await stack.mlflow.getOrCreateExperiment(experimentName(model))]);
  const sweep = runs.find((r) => r.runName === `retrain-${n}-sweep`)!;
  const trials = runs
    .filter((r) => r.tags['mlflow.parentRunId'] === sweep.runId)
    .sort((a, b) => Number(a.tags['perennial.trial']) - Number(b.tags['perennial.trial']));
  return { sweep, trials };
}
