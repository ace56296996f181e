/**
 * The model server replaced under 200 predictions per second (short form of the chaos scenario;
 * `npm run bench -- chaos` runs the full one): two real model-server processes on one port, the
 * old one SIGTERMed while the new one serves. Nothing may fail, be lost or be logged twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../../stack/chaos/server-replace.ts';
import { mlflowUrl } from '../helpers/services.ts';

test('replacing the model server under load fails no request and logs every prediction once', async () => {
  process.env.MLFLOW_TRACKING_URI ??= await mlflowUrl();
  const result = await scenario.run({ full: false });
  console.log(JSON.stringify(result));
  const details = result.details as {
    requests: number;
    failed: number;
    acknowledged: number;
    replacements: Array<{ old: number; next: number }>;
    drainsLogged: number;
  };
  assert.equal(details.replacements.length, 1);
  assert.notEqual(details.replacements[0].next, details.replacements[0].old, 'a second process served');
  assert.ok(details.requests > 1000, `load was sent (${details.requests} requests)`);
  assert.equal(details.failed, 0, `failed requests: ${JSON.stringify(result.details)}`);
  assert.equal(details.acknowledged, details.requests);
  assert.equal(result.lost, 0);
  assert.equal(result.duplicated, 0);
  assert.ok(result.survived);
  assert.ok(details.drainsLogged >= 1, 'the old instance drained on SIGTERM');
});
