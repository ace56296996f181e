/**
 * The short form of the worker-kill chaos scenario (stack/chaos/worker-kill.ts): a real worker
 * process killed with SIGKILL twice during a retrain's sweep. `npm run bench -- chaos` runs the
 * full form (five kills).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scenario } from '../../stack/chaos/worker-kill.ts';
import { mlflowUrl, temporalAddress } from '../helpers/services.ts';

test(
  'a retrain whose worker is killed with SIGKILL mid-sweep completes with one run per trial and one version',
  { timeout: 20 * 60_000 },
  async () => {
    // The scenario uses the services named in the environment; a file run alone starts them here.
    process.env.TEMPORAL_ADDRESS = await temporalAddress();
    process.env.MLFLOW_TRACKING_URI = await mlflowUrl();
    const result = await scenario.run({ full: false });
    console.log(JSON.stringify(result));
    const details = result.details!;
    assert.equal(details.kills, details.plannedKills, 'every planned kill happened before the retrain ended');
    assert.ok(
      (details.activitiesUnderWayAtEachKill as number[]).some((n) => n > 0),
      'a kill interrupted activities under way',
    );
    assert.equal(details.outcome, 'promoted', 'the retrain completed');
    assert.equal(result.lost, 0, 'a run for every trial');
    assert.equal(result.duplicated, 0, 'no trial run twice, no second version');
    assert.equal(details.runningRuns, 0, 'no run left RUNNING');
    assert.equal(details.registeredVersions, 1);
    assert.ok(result.survived);
  },
);
