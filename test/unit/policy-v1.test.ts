import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluatePoliciesV1 as evaluatePolicies, initialPolicyStateV1 as initialPolicyState, type MonitoringSummaryV1 as MonitoringSummary, startCooldownV1 as startCooldown } from '../../core/policy-v1.ts';
import { PolicySpec } from '../../core/spec.ts';

const summary = (over: Partial<MonitoringSummary> = {}): MonitoringSummary => ({
  at: '2026-01-01T00:00:00Z',
  labelled: { n: 100, accuracy: 0.9 },
  newLabels: 0,
  drift: { rows: 500, features: [{ name: 'a', statistic: 0.01, pValue: 0.9, drifted: false }], driftedShare: 0 },
  feedbackCursor: 0,
  ...over,
});
const drifted = (share: number): MonitoringSummary['drift'] => {
  const features = [0, 1, 2, 3].map((i) => ({ name: `f${i}`, statistic: 0.4, pValue: i < share * 4 ? 1e-9 : 0.5, drifted: i < share * 4 }));
  return { rows: 500, features, driftedShare: share };
};

test('accuracy below the threshold fires, with the value in the reason', () => {
  const policies = PolicySpec.parse({ accuracyBelow: { threshold: 0.7, minLabels: 50 } });
  const v = evaluatePolicies(policies, summary({ labelled: { n: 80, accuracy: 0.61 } }), initialPolicyState(), 0);
  assert.equal(v.fire, true);
  assert.deepEqual(v.rules, ['accuracy']);
  assert.equal(v.reasons[0], 'accuracy 0.610 on 80 labelled predictions is below 0.7');
});

test('too few labels never judge accuracy', () => {
  const policies = PolicySpec.parse({ accuracyBelow: { threshold: 0.7, minLabels: 50 } });
  assert.equal(evaluatePolicies(policies, summary({ labelled: { n: 49, accuracy: 0.1 } }), initialPolicyState(), 0).fire, false);
  assert.equal(evaluatePolicies(policies, summary({ labelled: { n: 0, accuracy: null } }), initialPolicyState(), 0).fire, false);
});

test('N new labelled records fire at exactly N', () => {
  const policies = PolicySpec.parse({ newLabels: { count: 1000 } });
  assert.equal(evaluatePolicies(policies, summary({ newLabels: 999 }), initialPolicyState(), 0).fire, false);
  const v = evaluatePolicies(policies, summary({ newLabels: 1000 }), initialPolicyState(), 0);
  assert.deepEqual([v.fire, v.reasons[0]], [true, '1000 new labelled records (policy: 1000)']);
});

test('drift fires on the configured share of features and names them', () => {
  const policies = PolicySpec.parse({ drift: { minFeatureShare: 0.5 } });
  assert.equal(evaluatePolicies(policies, summary({ drift: drifted(0.25) }), initialPolicyState(), 0).fire, false);
  const v = evaluatePolicies(policies, summary({ drift: drifted(0.5) }), initialPolicyState(), 0);
  assert.equal(v.fire, true);
  assert.match(v.reasons[0], /^input drift on 2\/4 features over 500 predictions: f0 \(KS 0\.400, p=1\.00e-9\), f1/);
});

test('drift needs enough rows', () => {
  const policies = PolicySpec.parse({ drift: { minRows: 1000 } });
  assert.equal(evaluatePolicies(policies, summary({ drift: drifted(1) }), initialPolicyState(), 0).fire, false);
});

test('sensitivity: K consecutive breaches fire, an interruption resets the count', () => {
  const policies = PolicySpec.parse({ newLabels: { count: 10 }, breachesToFire: 3 });
  let state = initialPolicyState();
  const step = (labels: number) => {
    const v = evaluatePolicies(policies, summary({ newLabels: labels }), state, 0);
    state = v.state;
    return v.fire;
  };
  assert.deepEqual([step(20), step(20), step(0), step(20), step(20)], [false, false, false, false, false]);
  assert.equal(step(20), true);
  assert.equal(state.breaches.newLabels, 0, 'counters restart after firing');
});

test('cooldown suppresses firing and says so; it expires', () => {
  const policies = PolicySpec.parse({ newLabels: { count: 10 }, cooldown: '10m' });
  const state = startCooldown(policies, initialPolicyState(), 1_000);
  assert.equal(state.cooldownUntil, 601_000);
  const during = evaluatePolicies(policies, summary({ newLabels: 50 }), state, 300_000);
  assert.equal(during.fire, false);
  assert.match(during.notes.join(), /cooldown until 1970-01-01T00:10:01.000Z suppressed: newLabels/);
  assert.equal(evaluatePolicies(policies, summary({ newLabels: 50 }), state, 601_000).fire, true);
});

test('several rules fire together', () => {
  const policies = PolicySpec.parse({ newLabels: { count: 10 }, drift: {}, accuracyBelow: { threshold: 0.95 } });
  const v = evaluatePolicies(policies, summary({ newLabels: 10, drift: drifted(1) }), initialPolicyState(), 0);
  assert.deepEqual(v.rules, ['accuracy', 'newLabels', 'drift']);
});
