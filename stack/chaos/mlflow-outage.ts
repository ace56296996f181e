/**
 * MLflow goes down in the middle of a retrain's sweep and comes back on the same port and data
 * folder `full ? 10 minutes : 20 s` later. The activities ride it out by retrying (bounded by
 * schedule-to-close, workflows/activity-options.ts), so the retrain must finish as if nothing
 * happened: promoted, one MLflow run per trial, one registered version, no run left RUNNING.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporalConfig, type TemporalConfig } from '../../config/environment.ts';
import { toRecords } from '../../client/dataset.ts';
import { retrainWorkflowId, sweepStatusQuery } from '../../core/messages.ts';
import { ModelSpec } from '../../core/spec.ts';
import { weatherData } from '../demo.ts';
import { startLocalStack } from '../local.ts';
import { freePort, startMlflow } from '../services.ts';
import { auditRetrain } from './audit.ts';
import type { FaultResult, FaultScenario } from './fault.ts';
import { chaosDir, temporalFor } from './harness.ts';

export interface MlflowOutageOptions {
  temporal: TemporalConfig;
  /** Progress lines (the benchmark prints them); silent by default. */
  log?: (line: string) => void;
}

export function mlflowOutage({ temporal, log = () => {} }: MlflowOutageOptions): FaultScenario {
  return {
    name: 'mlflow-outage',
    async run({ full }): Promise<FaultResult> {
      const outageSeconds = full ? 600 : 20;
      const dataDir = mkdtempSync(join(tmpdir(), 'perennial-chaos-mlflow-'));
      const mlflowDir = join(dataDir, 'mlflow');
      const port = await freePort();
      // One uvicorn worker: this server serves one retrain, and it starts twice per run.
      let mlflow = await startMlflow({ dataDir: mlflowDir, port, workers: 1 });
      const stack = await startLocalStack({
        temporal,
        mlflowUrl: mlflow.url,
        dataDir,
        adminToken: 'chaos',
        servingPort: 0,
        taskQueue: `chaos-${randomUUID()}`,
      });
      try {
        const spec = outageSpec(full);
        await stack.store.addRecords(
          spec.name,
          toRecords(
            weatherData().seed,
            spec.features.map((f) => f.name),
            spec.label.name,
            'chaos seed',
          ),
        );
        await stack.client.register(spec);

        const sweep = stack.client.temporal.workflow.getHandle(`${retrainWorkflowId(spec.name, 1)}/sweep`);
        const rungsDone = () =>
          sweep.query(sweepStatusQuery).then(
            (s) => s.rungsDone,
            () => 0,
          );
        await until('the sweep to finish a first rung', async () => (await rungsDone()) >= 1, 600_000);

        const rungsBefore = await rungsDone();
        await mlflow.stop();
        log(`mlflow down after ${rungsBefore} rung(s), for ${outageSeconds} s`);
        await sleep(outageSeconds * 1000);
        mlflow = await startMlflow({ dataDir: mlflowDir, port, workers: 1 });
        const backAt = Date.now();
        log('mlflow back');

        const rungsAtBack = await rungsDone();
        const finished = () => stack.client.status(spec.name).then((s) => s.history.find((h) => h.what.startsWith('retrain #1:')));
        await until(
          'progress after the outage',
          async () => (await rungsDone()) > rungsAtBack || (await finished()) !== undefined,
          900_000,
        );
        const recoverSeconds = (Date.now() - backAt) / 1000;
        const outcome = await until('retrain #1 to finish', finished, full ? 3_600_000 : 1_200_000);
        const status = await stack.client.status(spec.name);
        log(`${outcome.what} (${recoverSeconds.toFixed(1)} s to recover)`);

        const expectedTrials = spec.training.sweep.budget.maxTrials;
        const audit = await auditRetrain(stack.mlflow, spec.name, expectedTrials);
        const duplicated = audit.duplicateTrialRuns + Math.max(0, audit.registeredVersions - 1) + Math.max(0, audit.retrainRuns - 1);
        const lost = audit.missingTrials;
        return {
          name: 'mlflow-outage',
          survived:
            outcome.what === 'retrain #1: promoted' &&
            status.retrainCount === 1 &&
            audit.runningRuns === 0 &&
            audit.registeredVersions === 1 &&
            duplicated === 0 &&
            lost === 0,
          lost,
          duplicated,
          recoverSeconds,
          details: {
            outageSeconds,
            outcome: outcome.what,
            retrainCount: status.retrainCount,
            rungsBefore,
            trialRuns: audit.trialRuns,
            expectedTrials,
            registeredVersions: audit.registeredVersions,
            runningRuns: audit.runningRuns,
            champion: status.championVersion,
          },
        };
      } finally {
        await stack.stop();
        await mlflow.stop();
      }
    },
  };
}

/**
 * A small weather model whose sweep has enough rungs for the outage to land in the middle: the
 * outage starts after the first rung (3 epochs), so the short form stops at 9 epochs.
 */
function outageSpec(full: boolean): ModelSpec {
  return ModelSpec.parse({
    name: `chaos-${randomUUID().slice(0, 8)}`,
    features: [{ name: 'precipitation', min: 0 }, { name: 'temp_max' }, { name: 'temp_min' }, { name: 'wind', min: 0 }],
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: {
      window: { kind: 'lastRows', rows: 365 },
      sweep: {
        families: { softmax: { learningRate: { type: 'float', low: 0.02, high: 0.1, log: true } } },
        sampler: 'random',
        seed: 1,
        budget: { maxTrials: 3, maxEpochsPerTrial: full ? 27 : 9 },
        earlyStopping: { kind: 'asha', minEpochs: 3, reductionFactor: 3 },
      },
    },
    monitoring: { interval: '1m' },
    policies: {},
    approval: { required: false },
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value as T;
    await sleep(500);
  }
  throw new Error(`mlflow-outage: timed out waiting for ${what}`);
}

/** For `npm run bench -- chaos`: on the Temporal server named in the environment, or one of its own. */
export const scenario: FaultScenario = {
  name: 'mlflow-outage',
  async run(options) {
    const temporal = await temporalFor(chaosDir('mlflow-outage'));
    try {
      return await mlflowOutage({
        temporal: { ...temporalConfig({}), address: temporal.address },
        log: (line) => console.log(`  ${line}`),
      }).run(options);
    } finally {
      await temporal.stop();
    }
  },
};
