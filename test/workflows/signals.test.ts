/**
 * Signals on `model/<name>` as the README lists them, sent as plain JSON on the real stack:
 * `dataArrived` monitors at once (not at the next interval). (`rollback` with `toVersion` is
 * in windows.test.ts, which builds the three champions it needs anyway.)
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { request } from 'undici';
import { lifecycleWorkflowId } from '../../core/messages.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

/** The lifecycle's status once its history has an entry `what`. */
async function waitForHistory(model: string, what: string) {
  return eventually(
    `"${what}" in ${model}'s history`,
    async () => {
      const s = await stack.client.status(model);
      return s.history.some((h) => h.what === what) ? s : undefined;
    },
    300_000,
  );
}

const signal = (model: string, name: string, input: unknown) =>
  stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(model)).signal(name, input);

test('dataArrived runs a monitoring cycle at once, long before the next interval', { timeout: 10 * 60_000 }, async () => {
  // With an hour between cycles, only the signal can make one happen within this test.
  const spec = testSpec({ monitoring: { interval: '1h', windowRows: 200 } });
  await registerSeeded(stack, spec);
  const promoted = await waitForHistory(spec.name, 'retrain #1: promoted');
  assert.equal(promoted.lastSummary, undefined, 'no cycle yet');

  const rows = weatherData()
    .traffic.slice(0, 12)
    .map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows }),
  });
  assert.equal(res.statusCode, 200, await res.body.text());

  // Invalid input is recorded and changes nothing.
  await signal(spec.name, 'dataArrived', { rows: -5 });
  const ignored = await waitForHistory(spec.name, 'ignored dataArrived signal with invalid input');
  assert.equal(ignored.lastSummary, undefined);

  await signal(spec.name, 'dataArrived', { rows: 1200, source: 's3://bucket/2026-11.csv' });
  const status = await eventually('a monitoring cycle', async () => {
    const s = await stack.client.status(spec.name);
    return s.lastSummary ? s : undefined;
  });
  assert.ok(status.history.some((h) => h.what === '1200 new rows arrived from s3://bucket/2026-11.csv: monitoring now'));
  const summary = status.lastSummary as MonitoringSummary;
  assert.equal(summary.newRows, 12, 'the cycle saw the predictions served before it');
});
