import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  coalesce,
  initialLifecycleState,
  lifecycleStatus,
  mayStart,
  requestedTrigger,
  retryAfter,
  rollbackRefusal,
  rollbackTarget,
  triggerOf,
  withoutStaleTriggers,
} from '../../core/lifecycle/state.ts';
import { fromCarriedState, type CarriedLifecycleState } from '../../core/legacy/carried-state.ts';
import { PolicySpec } from '../../core/spec.ts';

const drift = { reason: 'drift: input drift on 2/4 features', rules: ['drift'], values: { drift: { drifted_features: 2 } } };
const accuracy = { reason: 'accuracy: accuracy 0.6 < 0.7', rules: ['accuracy'] };
const manual = requestedTrigger('ana', 'new data');

test('the first trigger waits as it is', () => {
  assert.deepEqual(coalesce(undefined, drift), drift);
});

test('the same policies breaching again keep the latest evidence', () => {
  const again = { ...drift, reason: 'drift: input drift on 3/4 features' };
  assert.deepEqual(coalesce(drift, again), again);
});

test('different triggers coalesce into one follow-up with both reasons and rules', () => {
  assert.deepEqual(coalesce(drift, accuracy), { reason: `${drift.reason}; ${accuracy.reason}`, rules: ['drift', 'accuracy'] });
  // People asking twice are both heard, with the rule once.
  const twice = coalesce(manual, requestedTrigger('bo', 'again'));
  assert.deepEqual(twice, { reason: 'manual (ana): new data; manual (bo): again', rules: ['manual'] });
});

test('retrain signals name a person or the schedule', () => {
  assert.deepEqual(manual, { reason: 'manual (ana): new data', rules: ['manual'] });
  assert.deepEqual(requestedTrigger('schedule', 'weekly'), { reason: 'schedule: weekly', rules: ['schedule'] });
});

test('fired rules become one trigger with their values', () => {
  const t = triggerOf([
    { rule: 'drift', reason: 'drift: x', values: { drifted_share: 0.5 } },
    { rule: 'accuracy', reason: 'accuracy: y', values: { accuracy: 0.6 } },
  ]);
  assert.deepEqual(t, {
    reason: 'drift: x; accuracy: y',
    rules: ['drift', 'accuracy'],
    values: { drift: { drifted_share: 0.5 }, accuracy: { accuracy: 0.6 } },
  });
});

test('a promotion drops policy triggers and keeps what people and the schedule asked for', () => {
  assert.deepEqual(withoutStaleTriggers(undefined, '3'), { pending: undefined, dropped: false });
  assert.deepEqual(withoutStaleTriggers(drift, '3'), { pending: undefined, dropped: true });
  assert.deepEqual(withoutStaleTriggers(manual, '3'), { pending: manual, dropped: false });
  const mixed = coalesce(drift, manual);
  assert.deepEqual(withoutStaleTriggers(mixed, '3'), {
    pending: { reason: `${mixed.reason} (policy triggers dropped: new champion v3)`, rules: ['manual'] },
    dropped: true,
  });
});

test('a paused lifecycle starts only what a person or initial training asks for', () => {
  assert.equal(mayStart(drift, false), true);
  assert.equal(mayStart(drift, true), false);
  assert.equal(mayStart(manual, true), true);
  assert.equal(mayStart({ reason: 'initial', rules: ['initial'] }, true), true);
  assert.equal(mayStart(requestedTrigger('schedule', 'weekly'), true), false);
});

test('a failed retrain is retried after 1 and 5 minutes, then given up', () => {
  assert.deepEqual(retryAfter(1, 1_000), { delay: '1m', atMs: 61_000 });
  assert.deepEqual(retryAfter(2, 1_000), { delay: '5m', atMs: 301_000 });
  assert.equal(retryAfter(3, 1_000), undefined);
});

test('a rollback goes to the version named, else the previous champion, and never to the champion', () => {
  const state = { ...initialLifecycleState(), championVersion: '4', previousChampions: ['3', '2'] };
  assert.equal(rollbackTarget(state, { reason: 'r', requestedBy: 'ana' }), '3');
  assert.equal(rollbackTarget(state, { reason: 'r', requestedBy: 'ana', toVersion: '2' }), '2');
  assert.equal(rollbackRefusal('weather', state, { reason: 'r', requestedBy: 'ana' }), undefined);
  assert.equal(
    rollbackRefusal('weather', state, { reason: 'r', requestedBy: 'ana', toVersion: '4' }),
    'toVersion: v4 is already the champion of weather',
  );
  assert.equal(
    rollbackRefusal('weather', initialLifecycleState(), { reason: 'r', requestedBy: 'ana' }),
    'toVersion: weather has no earlier champion to return to; name a version',
  );
});

test('the status counts breaches in each window and shows times as ISO strings', () => {
  const policies = PolicySpec.parse({});
  const state = {
    ...initialLifecycleState(),
    policy: { windows: { drift: [true, false, true], accuracy: [false] }, cooldownUntil: 0 },
    retry: { trigger: drift, failures: 1, atMs: 60_000 },
  };
  const status = lifecycleStatus('weather', state, policies, {
    monitoringNow: true,
    activeRetrain: { workflowId: 'model/weather/retrain/2', trigger: 'drift' },
  });
  assert.deepEqual(status.breaches, { drift: 2, accuracy: 0 });
  assert.equal(status.cooldownUntil, undefined);
  assert.equal(status.retryAt, '1970-01-01T00:01:00.000Z');
  assert.deepEqual(status.activeRetrain, { workflowId: 'model/weather/retrain/2', trigger: 'drift', stage: 'running' });
  assert.equal(status.monitoringNow, true);
  assert.deepEqual(status.policyNotes, []);
});

test('state carried from a pre-v2 run becomes v2 state once: empty windows, same cooldown, no v1 summary', () => {
  const v1: CarriedLifecycleState = {
    ...initialLifecycleState(),
    championVersion: '2',
    policy: { breaches: { drift: 1 }, cooldownUntil: 5_000 },
    lastSummary: { at: '2026-11-22T11:00:00Z' } as CarriedLifecycleState['lastSummary'],
  };
  const state = fromCarriedState(v1);
  assert.deepEqual(state.policy, { windows: {}, cooldownUntil: 5_000 });
  assert.equal(state.lastSummary, undefined);
  assert.equal(state.championVersion, '2');
});

test('v2 carried state passes through unchanged', () => {
  const v2 = {
    ...initialLifecycleState(),
    policy: { windows: { drift: [true] }, cooldownUntil: 7 },
    lastSummary: { version: 2 } as CarriedLifecycleState['lastSummary'],
  };
  const state = fromCarriedState(v2);
  assert.deepEqual(state.policy, v2.policy);
  assert.equal(state.lastSummary, v2.lastSummary);
});
