/**
 * The short form of the temporal-restart chaos scenario (stack/chaos/temporal-restart.ts): the
 * scenario's own Temporal dev server killed with SIGKILL mid-retrain, down 5 s, and restarted on
 * the same database. `npm run bench -- chaos` runs the full form (down 60 s).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scenario } from '../../stack/chaos/temporal-restart.ts';
import { mlflowUrl } from '../helpers/services.ts';

test(
  'a retrain survives its Temporal server killed with SIGKILL and restarted on the same database',
  { timeout: 20 * 60_000 },
  async () => {
    process.env.MLFLOW_TRACKING_URI = await mlflowUrl();
    const result = await scenario.run({ full: false });
    console.log(JSON.stringify(result));
    const details = result.details!;
    assert.ok(details.killedDuringSweep, 'the server was killed while the sweep ran');
    assert.equal(details.outcome, 'promoted', 'the retrain completed');
    assert.ok(details.workerSurvived, 'the worker process waited for the server rather than exiting');
    assert.equal(result.lost, 0, 'a run for every trial');
    assert.equal(result.duplicated, 0, 'no trial run twice, no second version');
    assert.equal(details.runningRuns, 0, 'no run left RUNNING');
    assert.equal(details.registeredVersions, 1);
    assert.ok(result.survived);
  },
);
