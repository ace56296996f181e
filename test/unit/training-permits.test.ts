import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrainingLimit, TrainingPermits, type PermitNotice } from '../../core/training-permits.ts';

const ask = (model: string) => ({ sweepWorkflowId: `model/${model}/retrain/1/sweep`, runId: `run-${model}`, model });
const told = (notices: PermitNotice[]) =>
  notices.splice(0).map((n) => `${n.entry.model} ${n.kind}${n.kind === 'queued' ? ` ${n.ahead}` : ''}`);

test('permits are granted up to the limit, then first come first served as holders release', () => {
  const permits = new TrainingPermits({ limit: 2, holders: [], queue: [] }, () => '2026-12-02T00:00:00Z');
  for (const model of ['a', 'b', 'c', 'd']) permits.request(ask(model));
  assert.deepEqual(told(permits.notices), ['a granted', 'b granted', 'c queued 0', 'd queued 1']);
  assert.equal(permits.release(ask('b').sweepWorkflowId), true);
  assert.deepEqual(told(permits.notices), ['c granted']);
  assert.deepEqual(
    permits.holders.map((h) => h.model),
    ['a', 'c'],
  );
  // A waiter that gives up leaves its place; a release of nothing held says so.
  assert.equal(permits.release(ask('d').sweepWorkflowId), true);
  assert.equal(permits.release(ask('d').sweepWorkflowId), false);
  assert.deepEqual(permits.notices, []);
});

test('asking again keeps the place; raising or removing the limit grants the queue at once', () => {
  const permits = new TrainingPermits({ limit: 1, holders: [], queue: [] }, () => '2026-12-02T00:00:00Z');
  for (const model of ['a', 'b', 'c']) permits.request(ask(model));
  permits.request(ask('a'));
  permits.request(ask('c'));
  assert.deepEqual(told(permits.notices), ['a granted', 'b queued 0', 'c queued 1', 'a granted', 'c queued 1']);
  permits.setLimit(2);
  assert.deepEqual(told(permits.notices), ['b granted']);
  permits.setLimit(null);
  assert.deepEqual(told(permits.notices), ['c granted']);
  // Lowering the limit takes no permit back: holders finish, and no one new starts until below it.
  permits.setLimit(1);
  permits.request(ask('d'));
  assert.deepEqual(told(permits.notices), ['d queued 0']);
  assert.equal(permits.holders.length, 3);
});

test('a limit must be a positive whole number or null, and the refusal names the field', () => {
  assert.deepEqual(TrainingLimit.parse({ limit: null }), { limit: null });
  for (const limit of [0, -1, 2.5, NaN, '3', undefined]) {
    const parsed = TrainingLimit.safeParse({ limit });
    assert.equal(parsed.success, false, `limit ${String(limit)}`);
    assert.deepEqual(
      parsed.error!.issues.map((i) => i.path.join('.')),
      ['limit'],
    );
  }
});
