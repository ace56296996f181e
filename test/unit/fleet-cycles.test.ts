/**
 * The fleet's cheaper monitoring cycles, as pure functions: the per-model stagger of cycle times
 * (core/lifecycle/stagger.ts) and the quiet cycle's summary and verdict
 * (core/lifecycle/quiet-cycle.ts). The real-stack side is test/workflows/quiet-cycles.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { staggerFraction, untilNextCycle } from '../../core/lifecycle/stagger.ts';
import { isQuiet, quietSummary } from '../../core/lifecycle/quiet-cycle.ts';
import { evaluatePolicies, initialPolicyState, PolicySpec } from '../../core/policy.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import type { MonitorCursors } from '../../core/contracts.ts';

test('a model name always gets the same phase, in [0, 1)', () => {
  assert.equal(staggerFraction('churn'), staggerFraction('churn'));
  assert.notEqual(staggerFraction('churn'), staggerFraction('churn2'));
  for (const name of ['', 'a', 'weather', 'x'.repeat(500)]) {
    const f = staggerFraction(name);
    assert.ok(f >= 0 && f < 1, `${name}: ${f}`);
  }
});

test('a fleet registered together spreads its cycles over the interval', () => {
  // 1,000 models named alike, as a bulk registration names them: every tenth of the interval
  // gets between half and twice its share.
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 1000; i++) buckets[Math.floor(staggerFraction(`model-${i}`) * 10)] += 1;
  for (const [k, n] of buckets.entries()) assert.ok(n >= 50 && n <= 200, `bucket ${k}: ${n} of 1000 (${buckets.join(', ')})`);
});

test('the wait returns to the model phase, within (0, interval]', () => {
  const interval = 60_000;
  const phase = Math.floor(staggerFraction('churn') * interval);
  const t0 = 1_800_000_000_000;
  for (const now of [t0, t0 + 1, t0 + 12_345, t0 + 59_999, t0 + phase, t0 - phase]) {
    const wait = untilNextCycle('churn', interval, now);
    assert.ok(wait > 0 && wait <= interval, `wait ${wait}`);
    assert.equal((now + wait - phase) % interval, 0, `from ${now}: the cycle lands on the phase`);
  }
  // Woken early (a signal) or late (a slow cycle): the next cycle is still on the phase, not an interval later.
  const onPhase = t0 - (t0 % interval) + phase + interval;
  assert.equal(untilNextCycle('churn', interval, onPhase - 5_000), 5_000);
  assert.equal(untilNextCycle('churn', interval, onPhase), interval);
});

const cursors: MonitorCursors = {
  championVersion: '3',
  cycle: 7,
  feedback: 40,
  predictions: 900,
  counted: 1000,
  detectors: {} as MonitorCursors['detectors'],
};

test('a cycle is quiet only when no prediction or feedback arrived for the same champion', () => {
  const log = { maxPredictionSeq: 1000, maxFeedbackId: 40, newLabels: 0 };
  assert.equal(isQuiet(log, cursors, '3'), true);
  assert.equal(isQuiet({ ...log, maxPredictionSeq: 1001 }, cursors, '3'), false);
  assert.equal(isQuiet({ ...log, maxFeedbackId: 41 }, cursors, '3'), false);
  assert.equal(isQuiet(log, cursors, '4'), false, 'a new champion gets a measured first cycle');
  assert.equal(isQuiet(log, undefined, '3'), false, 'so does a model never monitored');
});

function measured(): MonitoringSummary {
  return {
    version: 2,
    at: '2026-12-01T00:00:00.000Z',
    cycle: 7,
    championVersion: '3',
    performance: {
      n: 50,
      accuracy: 0.8,
      precisionMacro: 0.8,
      recallMacro: 0.8,
      f1Macro: 0.8,
      logLoss: 0.5,
      perClass: {},
      implicit: { accepted: 1, overridden: 0 },
    },
    drift: { rows: 200, tested: true, features: [], drifted: ['wind'], driftedShare: 1, skipped: [] },
    predictions: { n: 200, classDrift: null, meanConfidence: 0.9, lowConfidenceShare: 0.1 },
    anomalies: { rows: 200, anomalyRate: 0.2, features: {} },
    detectors: {
      adwin: { drift: true, warning: false, errors: 3 },
      ddm: { drift: false, warning: true, errors: 3 },
      'page-hinkley': { drift: false, warning: false, errors: 3 },
    },
    newLabels: 5,
    newRows: 200,
    estimated: { accuracy: 0.8, n: 200, onLabelled: 0.8 },
  };
}

test('the quiet summary measures nothing new: label, drift and detector rules do not fire on stale evidence', () => {
  const quiet = quietSummary(measured(), '2026-12-01T00:01:00.000Z', 5);
  assert.equal(quiet.performance.n, 0);
  assert.equal(quiet.drift.tested, false);
  assert.equal(quiet.newRows, 0);
  assert.equal(quiet.newLabels, 5);
  assert.equal(quiet.cycle, 7);
  assert.deepEqual(
    Object.values(quiet.detectors).map((d) => d.drift),
    [false, false, false],
  );
  const policies = PolicySpec.parse({
    accuracyBelow: { threshold: 0.9 },
    drift: {},
    rules: [{ name: 'adwin', when: { detector: 'adwin' } }],
  });
  const verdict = evaluatePolicies(policies, quiet, initialPolicyState(), { nowMs: Date.parse(quiet.at) });
  assert.equal(verdict.fire, false, JSON.stringify(verdict));
});

test('time and state still fire on a quiet cycle: champion age, and new labels once the cooldown ends', () => {
  const at = Date.parse('2026-12-01T00:01:00.000Z');
  const quiet = quietSummary(measured(), new Date(at).toISOString(), 120);
  const age = PolicySpec.parse({ rules: [{ name: 'weekly', when: { metric: 'model_age_days', atLeast: 7 } }] });
  const young = evaluatePolicies(age, quiet, initialPolicyState(), { nowMs: at, championSinceMs: at - 6 * 86_400_000 });
  assert.equal(young.fire, false);
  const old = evaluatePolicies(age, quiet, initialPolicyState(), { nowMs: at, championSinceMs: at - 8 * 86_400_000 });
  assert.deepEqual(
    old.fired.map((f) => f.rule),
    ['weekly'],
  );

  const labels = PolicySpec.parse({ newLabels: { count: 100 }, cooldown: '1h' });
  const cooling = evaluatePolicies(labels, quiet, { windows: {}, cooldownUntil: at + 1 }, { nowMs: at });
  assert.equal(cooling.fire, false);
  const cooled = evaluatePolicies(labels, quiet, { windows: {}, cooldownUntil: at - 1 }, { nowMs: at });
  assert.deepEqual(
    cooled.fired.map((f) => f.rule),
    ['newLabels'],
  );
});
