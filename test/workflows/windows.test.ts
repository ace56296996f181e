/**
 * Training windows end to end: what a retrain's snapshot holds under `lastDays` and
 * `sinceChampion`, on the real stack with records stored in the real SQLite log. The
 * sinceChampion test builds three champions, so it also rolls back to the oldest with
 * `toVersion` (a plain-JSON signal), which resets what the next retrain learns from.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { request } from 'undici';
import { lifecycleWorkflowId, retrainWorkflowId } from '../../core/messages.ts';
import { openStore } from '../../adapters/store/index.ts';
import { weatherData } from '../../stack/demo.ts';
import { eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const seed = weatherData().seed;

/** Retrain #n's outcome and the size of its snapshot, once it has finished. */
async function finishedRetrain(model: string, n: number) {
  return eventually(
    `retrain #${n} of ${model} to finish`,
    async () => {
      const s = await stack.client.status(model);
      const done = s.history.find((h) => h.what.startsWith(`retrain #${n}: `));
      if (!done) return undefined;
      const { decisions } = await stack.client.retrainStatus(retrainWorkflowId(model, n));
      const snapshot = decisions.find((d) => d.what.startsWith('snapshot of '))?.what;
      return {
        outcome: done.what.slice(`retrain #${n}: `.length),
        rows: Number(snapshot?.match(/^snapshot of (\d+) labelled records$/)?.[1]),
      };
    },
    300_000,
  );
}

test('lastDays trains on the records of the last N days only', { timeout: 10 * 60_000 }, async () => {
  const spec = testSpec({ training: { ...testSpec().training, window: { kind: 'lastDays', days: 30 } } });
  // 431 records stored 100 days ago, every one of them invalid (negative wind): a window that
  // reached back that far would fail validation.
  const longAgo = await openStore(join(stack.dataDir, 'perennial.sqlite'), { now: () => new Date(Date.now() - 100 * 86_400_000) });
  await seedRecords(
    longAgo,
    spec,
    seed.slice(0, 431).map((r) => ({ ...r, wind: -3 })),
    'last season',
  );
  await longAgo.close();
  await seedRecords(stack.store, spec, seed.slice(431), 'this month');

  await stack.client.register(spec);
  assert.deepEqual(await finishedRetrain(spec.name, 1), { outcome: 'promoted', rows: 300 });
});

test(
  "sinceChampion learns from records newer than the champion's; a rollback with toVersion returns to an older champion",
  { timeout: 20 * 60_000 },
  async () => {
    // Every challenger is promoted (minImprovement -1): the test is about what each one learns from.
    const spec = testSpec({
      training: { ...testSpec().training, window: { kind: 'sinceChampion' } },
      evaluation: { minImprovement: -1 },
      monitoring: { interval: '1h', windowRows: 200 },
    });
    await seedRecords(stack.store, spec, seed.slice(0, 400), '2012 and early 2013');
    await stack.client.register(spec);
    assert.deepEqual(await finishedRetrain(spec.name, 1), { outcome: 'promoted', rows: 400 }, 'no champion: every record');

    await seedRecords(stack.store, spec, seed.slice(400), 'rest of 2013');
    await stack.client.retrain(spec.name, { reason: 'new records', requestedBy: 'ana' });
    assert.deepEqual(await finishedRetrain(spec.name, 2), { outcome: 'promoted', rows: 331 }, 'only what v1 did not learn from');

    await seedRecords(stack.store, spec, weatherData().traffic.slice(0, 365), 'Seattle 2014');
    await stack.client.retrain(spec.name, { reason: 'a new year', requestedBy: 'ana' });
    assert.deepEqual(await finishedRetrain(spec.name, 3), { outcome: 'promoted', rows: 365 }, 'only what v2 did not learn from');
    assert.deepEqual((await stack.client.status(spec.name)).previousChampions, ['2', '1']);

    // Back past the previous champion, by plain signal as the Temporal UI sends it.
    await stack.client.temporal.workflow
      .getHandle(lifecycleWorkflowId(spec.name))
      .signal('rollback', { reason: 'v1 was the last good one', requestedBy: 'ana', toVersion: '1' });
    const status = await eventually('the rollback to v1', async () => {
      const s = await stack.client.status(spec.name);
      return s.history.some((h) => h.what === 'rolled back from v3 to v1') ? s : undefined;
    });
    assert.equal(status.championVersion, '1');
    assert.deepEqual(status.previousChampions, ['2']);
    assert.deepEqual(status.history.find((h) => h.what === 'rolled back from v3 to v1')?.reasons, ['ana: v1 was the last good one']);
    const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/deployment`);
    const deployment = (await res.body.json()) as { champion: { version: string }; canary?: unknown };
    assert.deepEqual([deployment.champion.version, deployment.canary], ['1', undefined]);
    assert.equal((await stack.mlflow.getVersionByAlias(spec.name, 'champion'))?.version, '1');
    assert.equal((await stack.mlflow.getModelVersion(spec.name, '1')).tags['perennial.outcome'], 'restored-by-rollback');
    assert.equal((await stack.mlflow.getModelVersion(spec.name, '3')).tags['perennial.outcome'], 'rolled-back');
    assert.equal(
      (await stack.mlflow.getModelVersion(spec.name, '2')).tags['perennial.outcome'],
      'retired',
      'the skipped champion is untouched',
    );
    assert.deepEqual(
      (await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name)).describe()).searchAttributes.ChampionVersion,
      ['1'],
    );

    await stack.client.retrain(spec.name, { reason: 'after the rollback', requestedBy: 'ana' });
    assert.deepEqual(await finishedRetrain(spec.name, 4), { outcome: 'promoted', rows: 1096 }, 'after a rollback: every record');
  },
);
