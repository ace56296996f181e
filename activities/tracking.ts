/**
 * MLflow records of a retrain: the parent run, the registered challenger and the aliases.
 * Every write is keyed so that an activity retried after a crash changes nothing twice.
 */
import { Context } from '@temporalio/activity';
import type { Decision } from '../core/messages.ts';
import type { ActivityContext } from './context.ts';
import { MlflowError } from '../adapters/mlflow/client.ts';
import { experimentName } from '../adapters/mlflow/model-files.ts';
import type { RetrainRun, TriggerValues } from '../core/contracts.ts';
import { currentSourceVersion, sourceTagsOf, sourceVersionTags } from '../config/source-version.ts';
import { LOGGED_MODEL_TAG } from './logged-model.ts';

export function trackingActivities({ mlflow, retrainMetrics }: ActivityContext) {
  /** Ends every run still RUNNING below `runId` (the sweep, its trials) as KILLED, deepest first. */
  async function killOpenDescendants(experimentId: string, runId: string): Promise<void> {
    for (const child of await mlflow.childRuns(experimentId, runId)) {
      await killOpenDescendants(experimentId, child.runId);
      if (child.status === 'RUNNING') await mlflow.finishRun(child.runId, 'KILLED');
    }
  }

  async function dropChallengerAlias(model: string, version: string): Promise<void> {
    const challenger = await mlflow.getVersionByAlias(model, 'challenger');
    if (challenger?.version === version) await mlflow.deleteAlias(model, 'challenger');
  }

  return {
    async startRetrainRun(input: {
      model: string;
      n: number;
      trigger: string;
      rules: string[];
      values?: TriggerValues;
      championVersion?: string;
    }): Promise<RetrainRun> {
      const experimentId = await mlflow.getOrCreateExperiment(experimentName(input.model), { 'perennial.model': input.model });
      // The workflow execution names the retrain uniquely, even if a lifecycle is started anew.
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('startRetrainRun runs only inside a retrain workflow');
      const { workflowId, runId: executionId } = execution;
      const { run } = await mlflow.findOrCreateRun({
        experimentId,
        key: `${workflowId}@${executionId}`,
        runName: `retrain-${input.n}`,
        tags: {
          'perennial.model': input.model,
          'perennial.kind': 'retrain',
          'perennial.workflow_id': workflowId,
          'perennial.trigger': input.trigger.slice(0, 5000),
          'perennial.trigger_rules': input.rules.join(','),
          ...(input.values ? { 'perennial.trigger_values': JSON.stringify(input.values).slice(0, 5000) } : {}),
          'perennial.champion_before': input.championVersion ?? 'none',
          'mlflow.source.name': 'perennial retrain workflow',
          'mlflow.source.type': 'JOB',
          ...sourceVersionTags(currentSourceVersion()),
          'mlflow.note.content': `Retrain #${input.n} of **${input.model}**.\n\nTrigger: ${input.trigger}`,
        },
      });
      retrainMetrics?.retrainStarted(input.model);
      return { experimentId, runId: run.runId, artifactUri: run.artifactUri };
    },

    /** `model` is absent in calls from retrains recorded before challengers lost their alias here. */
    async finishRetrainRun(input: {
      model?: string;
      runId: string;
      outcome: string;
      decisions: Decision[];
      version?: string;
      failed?: boolean;
    }): Promise<void> {
      const run = await mlflow.getRun(input.runId);
      const story = input.decisions.map((d) => `- **${d.what}**${d.reasons.map((r) => `\n  - ${r}`).join('')}`).join('\n');
      await mlflow.uploadArtifact(run.artifactUri, 'decisions.json', JSON.stringify(input.decisions, null, 2), 'application/json');
      await mlflow.logBatch(input.runId, {
        tags: {
          'perennial.outcome': input.outcome,
          ...(input.version ? { 'perennial.challenger_version': input.version } : {}),
          'mlflow.note.content': `${run.tags['mlflow.note.content'] ?? ''}\n\n## Decisions\n${story}`.slice(0, 7900),
        },
      });
      // A failed retrain leaves its sweep and the trials it interrupted open: none stays RUNNING.
      if (input.failed) await killOpenDescendants(run.experimentId, input.runId);
      if (run.status === 'RUNNING') await mlflow.finishRun(input.runId, input.failed ? 'FAILED' : 'FINISHED');
      // Only a promoted challenger keeps its alias; a rejected, rolled-back or failed one loses it.
      if (input.model && input.version && input.outcome !== 'promoted') await dropChallengerAlias(input.model, input.version);
      // Counted once everything above is done: an attempt that failed part-way is retried, and counts then.
      if (input.model) retrainMetrics?.retrainFinished(input.model, input.outcome, input.runId);
    },

    /** Whether `version` is a registered version of the model (a rollback target must be). */
    async registeredVersion(input: { model: string; version: string }): Promise<boolean> {
      try {
        await mlflow.getModelVersion(input.model, input.version);
        return true;
      } catch (err) {
        if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return false;
        throw err;
      }
    },

    async registerChallenger(input: {
      model: string;
      candidateRunId: string;
      retrainRunId: string;
      trigger: string;
    }): Promise<{ version: string }> {
      const candidate = await mlflow.getRun(input.candidateRunId);
      await mlflow.ensureRegisteredModel(input.model, `Managed by Perennial (lifecycle workflow model/${input.model})`);
      // The trial's logged model (MLflow 3); trials closed before logged models have only run files.
      const modelId = candidate.tags[LOGGED_MODEL_TAG];
      const { version } = await mlflow.findOrCreateModelVersion({
        name: input.model,
        source: modelId ? `models:/${modelId}` : `${candidate.artifactUri}/model`,
        runId: input.candidateRunId,
        modelId,
        tags: {
          'perennial.retrain_run_id': input.retrainRunId,
          'perennial.trigger': input.trigger.slice(0, 5000),
          // Which code trained it: the trial run's record, whoever registers it.
          ...sourceTagsOf(candidate.tags),
        },
      });
      await mlflow.setAlias(input.model, 'challenger', version.version);
      await mlflow.setTag(input.retrainRunId, 'perennial.challenger_version', version.version);
      return { version: version.version };
    },

    async promoteChampion(input: { model: string; version: string; previous?: string; rolledBack?: boolean }): Promise<void> {
      await mlflow.setAlias(input.model, 'champion', input.version);
      const challenger = await mlflow.getVersionByAlias(input.model, 'challenger');
      if (challenger?.version === input.version) await mlflow.deleteAlias(input.model, 'challenger');
      await mlflow.setModelVersionTag(
        input.model,
        input.version,
        'perennial.outcome',
        input.rolledBack ? 'restored-by-rollback' : 'champion',
      );
      if (input.previous && input.previous !== input.version) {
        await mlflow.setModelVersionTag(input.model, input.previous, 'perennial.outcome', input.rolledBack ? 'rolled-back' : 'retired');
      }
    },

    async tagVersion(input: { model: string; version: string; tags: Record<string, string> }): Promise<void> {
      for (const [key, value] of Object.entries(input.tags)) await mlflow.setModelVersionTag(input.model, input.version, key, value);
    },

    /**
     * A live test's verdict on the retrain run: its numbers as metrics (step = the look) and the
     * whole result as `<name>.json`. The workflow's timestamp makes a retried call write the same points.
     */
    async recordLiveTest(input: {
      retrainRun: RetrainRun;
      name: 'canary' | 'ab-test';
      metrics: Record<string, number>;
      look: number;
      at: number;
      result: unknown;
    }): Promise<void> {
      const { runId, artifactUri } = input.retrainRun;
      const metrics = Object.entries(input.metrics).map(([key, value]) => ({ key, value, step: input.look, timestamp: input.at }));
      await mlflow.logBatch(runId, { metrics });
      await mlflow.uploadArtifact(artifactUri, `${input.name}.json`, JSON.stringify(input.result, null, 2), 'application/json');
    },

    /** The version behind the `champion` alias, or null when there is none yet. */
    async currentChampion(input: { model: string }): Promise<string | null> {
      return (await mlflow.getVersionByAlias(input.model, 'champion'))?.version ?? null;
    },
  };
}
