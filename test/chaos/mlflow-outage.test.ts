/**
 * MLflow down for 20 s in the middle of a retrain (the short form of stack/chaos/mlflow-outage.ts;
 * `npm run bench -- chaos` runs 10 minutes): the retrain completes with one MLflow run per trial,
 * one registered version and no run left RUNNING. Real Temporal dev server, MLflow server (this
 * scenario's own, stopped and restarted on its port and data folder), model server and worker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporalConfig } from '../../config/environment.ts';
import { mlflowOutage } from '../../stack/chaos/mlflow-outage.ts';
import { temporalAddress } from '../helpers/services.ts';
import '../helpers/stack.ts';

test('a retrain rides out an MLflow outage mid-sweep', { timeout: 30 * 60_000 }, async () => {
  const scenario = mlflowOutage({
    temporal: { ...temporalConfig({}), address: await temporalAddress() },
    log: (line) => console.log(`# ${line}`),
  });
  const result = await scenario.run({ full: false });
  const details = result.details as {
    outcome: string;
    retrainCount: number;
    trialRuns: number;
    expectedTrials: number;
    registeredVersions: number;
    runningRuns: number;
  };
  assert.equal(details.outcome, 'retrain #1: promoted', JSON.stringify(result));
  assert.equal(details.retrainCount, 1, 'the retrain itself survived: no lifecycle retry was needed');
  assert.equal(details.trialRuns, details.expectedTrials, 'one MLflow run per trial');
  assert.equal(details.registeredVersions, 1, 'one registered version');
  assert.equal(details.runningRuns, 0, 'no run left RUNNING');
  assert.equal(result.lost, 0);
  assert.equal(result.duplicated, 0);
  assert.ok(result.survived, JSON.stringify(result));
});
