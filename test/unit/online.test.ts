/** The online training mode's decisions (core/online.ts) and its spec settings. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesce } from '../../core/lifecycle/state.ts';
import {
  afterOnlineStep,
  INITIAL_ONLINE_STATE,
  isOnlineUpdate,
  ONLINE_LIMIT_RULE,
  ONLINE_UPDATE_RULE,
  onlineTrigger,
  onlineUpdateSpec,
} from '../../core/online.ts';
import { ModelSpec } from '../../core/spec.ts';

const base = {
  name: 'm',
  features: [{ name: 'x' }],
  label: { name: 'y', classes: ['a', 'b'] },
};
const onlineSpec = (online: Record<string, unknown> = {}) =>
  ModelSpec.parse({ ...base, training: { window: { kind: 'lastRows', rows: 1000 }, mode: 'online', online } });
const settings = onlineSpec({ batchRows: 100, fullRetrainAfter: 2, maxRejected: 2 }).training.online!;
const cycle = (newLabels: number, busy = false) => ({ newLabels, championVersion: '3', busy });

test('the mode is opt-in: a spec without it has neither mode nor settings, one with it gets the defaults', () => {
  const plain = ModelSpec.parse(base);
  assert.equal(plain.training.mode, undefined);
  assert.equal(plain.training.online, undefined);
  assert.deepEqual(onlineSpec().training.online, { batchRows: 200, epochs: 3, fullRetrainAfter: 20, maxRejected: 3, skipApproval: false });
});

test('bad online settings name the field', () => {
  const problems = (training: unknown) => {
    const r = ModelSpec.safeParse({ ...base, training });
    assert.ok(!r.success);
    return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(problems({ online: { batchRows: 100 } }), ['training.online: online settings apply to training.mode online']);
  assert.deepEqual(problems({ mode: 'online', online: { batchRows: 20 } }), [
    'training.online.batchRows: an online update learns from 20 rows, fewer than validation.minRows (50) lets through',
  ]);
  assert.match(problems({ mode: 'stream' })[0], /^training\.mode: /);
  assert.match(problems({ mode: 'online', online: { epochs: 0 } })[0], /^training\.online\.epochs: /);
});

test('a batch of new labels makes an update; fewer, or a retrain in the way, makes nothing', () => {
  assert.equal(onlineTrigger(settings, undefined, cycle(99)), undefined);
  assert.equal(onlineTrigger(settings, undefined, cycle(100, true)), undefined);
  assert.deepEqual(onlineTrigger(settings, undefined, cycle(100)), {
    reason: 'online update of v3: 100 new labels (batchRows 100)',
    rules: [ONLINE_UPDATE_RULE],
  });
});

test('updates that ran their course make the next batch a full retrain', () => {
  const promoted = onlineTrigger(settings, { promoted: 2, rejectedInARow: 0 }, cycle(150));
  assert.deepEqual(promoted?.rules, [ONLINE_LIMIT_RULE]);
  assert.match(promoted!.reason, /2 updates promoted since the last full retrain/);
  const rejected = onlineTrigger(settings, { promoted: 1, rejectedInARow: 2 }, cycle(150));
  assert.deepEqual(rejected?.rules, [ONLINE_LIMIT_RULE]);
  assert.match(rejected!.reason, /2 updates in a row did not beat the champion/);
  // ... but only once a batch is in: a full retrain, too, needs something new to learn.
  assert.equal(onlineTrigger(settings, { promoted: 2, rejectedInARow: 0 }, cycle(10)), undefined);
});

test('the counts: updates count up, any full retrain starts afresh, and a policy trigger turns an update into a retrain', () => {
  const update = { rules: [ONLINE_UPDATE_RULE] };
  let state = afterOnlineStep(undefined, update, 'promoted');
  assert.deepEqual(state, { promoted: 1, rejectedInARow: 0 });
  state = afterOnlineStep(state, update, 'not-better');
  state = afterOnlineStep(state, update, 'failed');
  assert.deepEqual(state, { promoted: 1, rejectedInARow: 2 });
  assert.deepEqual(afterOnlineStep(state, update, 'promoted'), { promoted: 2, rejectedInARow: 0 });
  assert.deepEqual(afterOnlineStep(state, { rules: [ONLINE_LIMIT_RULE] }, 'not-better'), INITIAL_ONLINE_STATE);
  assert.deepEqual(afterOnlineStep(state, { rules: ['drift'] }, 'promoted'), INITIAL_ONLINE_STATE);

  const merged = coalesce({ reason: 'online update of v3', rules: [ONLINE_UPDATE_RULE] }, { reason: 'drift', rules: ['drift'] });
  assert.equal(isOnlineUpdate(merged), false);
  assert.equal(isOnlineUpdate({ rules: [] }), false);
});

test("an update trains one warm-start trial of the champion on the labels since the champion's", () => {
  const spec = onlineSpec({ batchRows: 100, epochs: 4, learningRate: 0.001 });
  const update = onlineUpdateSpec(spec);
  assert.deepEqual(update.training.window, { kind: 'sinceChampion' });
  const { sweep } = update.training;
  assert.deepEqual(sweep.families, { warmStart: { learningRate: { type: 'categorical', values: [0.001] } } });
  assert.equal(sweep.budget.maxTrials, 1);
  assert.equal(sweep.budget.maxEpochsPerTrial, 4);
  assert.deepEqual(sweep.earlyStopping, { kind: 'none' });
  assert.equal(sweep.history, undefined);
  // Without a learning rate of its own, the champion's settings as they were.
  assert.deepEqual(onlineUpdateSpec(onlineSpec()).training.sweep.families, { warmStart: {} });
  // Everything else is the spec's: the same gates, approval and live test judge the update.
  assert.deepEqual({ ...update, training: spec.training }, spec);
});
