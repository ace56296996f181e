import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { compileRules, evaluatePolicies, initialPolicyState, PolicySpec, startCooldown } from '../../core/policy.ts';
import { formatIssues } from '../../core/spec.ts';

const DAY = 86_400_000;
const clock = { nowMs: 10 * DAY, championSinceMs: 0, lastRetrainMs: 0 };

function summary(
  over: {
    accuracy?: number | null;
    n?: number;
    drifted?: string[];
    features?: string[];
    tested?: boolean;
    adwin?: boolean;
    anomalyRate?: number | null;
    newLabels?: number;
  } = {},
): MonitoringSummary {
  const features = over.features ?? ['a', 'b', 'c', 'd'];
  const drifted = over.drifted ?? [];
  return {
    version: 2,
    at: '2026-01-01T00:00:00Z',
    cycle: 1,
    championVersion: '1',
    performance: {
      n: over.n ?? 100,
      accuracy: over.accuracy === undefined ? 0.9 : over.accuracy,
      precisionMacro: 0.8,
      recallMacro: 0.8,
      f1Macro: 0.8,
      logLoss: 0.4,
      perClass: {},
      implicit: { accepted: 0, overridden: 0 },
    },
    drift: {
      rows: 500,
      tested: over.tested ?? true,
      features: features.map((name) => ({
        name,
        test: 'ks',
        statistic: 0.3,
        pValue: drifted.includes(name) ? 1e-6 : 0.5,
        threshold: 0.05,
        drifted: drifted.includes(name),
      })),
      drifted,
      driftedShare: drifted.length / features.length,
      skipped: [],
    },
    predictions: { n: 500, classDrift: { jensenShannon: 0.05, linf: 0.05 }, meanConfidence: 0.8, lowConfidenceShare: 0.1 },
    anomalies: { rows: 500, anomalyRate: over.anomalyRate === undefined ? 0 : over.anomalyRate, features: {} },
    detectors: {
      adwin: { drift: over.adwin ?? false, warning: false, errors: 10 },
      ddm: { drift: false, warning: false, errors: 10 },
      'page-hinkley': { drift: false, warning: false, errors: 10 },
    },
    newLabels: over.newLabels ?? 0,
    newRows: 500,
  };
}

describe('policy rules', () => {
  it('a metric threshold fires with the value in the reason and the evidence', () => {
    const policies = PolicySpec.parse({ rules: [{ name: 'acc', when: { metric: 'accuracy', below: 0.8 } }] });
    const v = evaluatePolicies(policies, summary({ accuracy: 0.61, n: 80 }), initialPolicyState(), clock);
    assert.equal(v.fire, true);
    assert.deepEqual(v.fired, [{ rule: 'acc', reason: 'acc: accuracy 0.61 < 0.8 on 80 labelled predictions', values: { accuracy: 0.61 } }]);
  });

  it('label metrics wait for minLabels, and an unmeasured cycle neither counts for nor against', () => {
    const policies = PolicySpec.parse({
      rules: [{ name: 'acc', when: { metric: 'accuracy', below: 0.8, minLabels: 50 }, breaches: 2, within: 2 }],
    });
    let state = initialPolicyState();
    let v = evaluatePolicies(policies, summary({ accuracy: 0.5 }), state, clock);
    assert.equal(v.fire, false);
    assert.match(v.notes[0], /acc breached in 1\/2 of the last 2 cycles/);
    assert.deepEqual(v.breached, ['acc']);
    state = v.state;
    v = evaluatePolicies(policies, summary({ accuracy: 0.1, n: 10 }), state, clock); // too few labels
    assert.equal(v.fire, false);
    assert.match(v.notes[0], /needs 50 labelled predictions, got 10/);
    v = evaluatePolicies(policies, summary({ accuracy: 0.5 }), v.state, clock);
    assert.equal(v.fire, true, 'two measured breaches in a row');
  });

  it('sensitivity: K breaches within a window of N measured cycles', () => {
    const policies = PolicySpec.parse({
      rules: [{ name: 'anomalies', when: { metric: 'anomaly_rate', above: 0.1 }, breaches: 2, within: 3 }],
    });
    const rates = [0.2, 0.0, 0.0, 0.3, 0.0, 0.4];
    const fired: number[] = [];
    let state = initialPolicyState();
    rates.forEach((rate, i) => {
      const v = evaluatePolicies(policies, summary({ anomalyRate: rate }), state, clock);
      if (v.fire) fired.push(i);
      state = v.state;
    });
    // 0.2 at 0 then 0.3 at 3: four cycles apart, outside a window of 3. 0.3 at 3 and 0.4 at 5: within 3.
    assert.deepEqual(fired, [5]);
  });

  it('drift on N features or a share, optionally among named features', () => {
    const count = PolicySpec.parse({ rules: [{ name: 'd', when: { drift: { features: 2 } } }] });
    assert.equal(evaluatePolicies(count, summary({ drifted: ['a'] }), initialPolicyState(), clock).fire, false);
    const v = evaluatePolicies(count, summary({ drifted: ['a', 'c'] }), initialPolicyState(), clock);
    assert.equal(v.fire, true);
    assert.deepEqual(v.fired[0].values, { drifted_features: 2, drifted_share: 0.5 });
    const among = PolicySpec.parse({ rules: [{ name: 'd', when: { drift: { share: 1, among: ['a', 'b'] } } }] });
    assert.equal(evaluatePolicies(among, summary({ drifted: ['a', 'c'] }), initialPolicyState(), clock).fire, false);
    assert.equal(evaluatePolicies(among, summary({ drifted: ['a', 'b'] }), initialPolicyState(), clock).fire, true);
    assert.equal(evaluatePolicies(count, summary({ drifted: ['a', 'c'], tested: false }), initialPolicyState(), clock).fire, false);
  });

  it('all / any nest, and detectors and model age are conditions too', () => {
    const policies = PolicySpec.parse({
      rules: [
        {
          name: 'combo',
          when: {
            any: [
              { detector: 'adwin' },
              {
                all: [
                  { metric: 'model_age_days', above: 7 },
                  { metric: 'new_labels', atLeast: 500 },
                ],
              },
            ],
          },
        },
      ],
    });
    assert.equal(evaluatePolicies(policies, summary({ newLabels: 499 }), initialPolicyState(), clock).fire, false);
    const aged = evaluatePolicies(policies, summary({ newLabels: 500 }), initialPolicyState(), clock);
    assert.equal(aged.fire, true);
    assert.deepEqual(aged.fired[0].values, { model_age_days: 10, new_labels: 500 });
    assert.equal(
      evaluatePolicies(policies, summary({ newLabels: 500 }), initialPolicyState(), { ...clock, championSinceMs: 5 * DAY }).fire,
      false,
    );
    const detector = evaluatePolicies(policies, summary({ adwin: true }), initialPolicyState(), clock);
    assert.equal(detector.fire, true);
    assert.match(detector.fired[0].reason, /adwin signalled concept drift/);
  });

  it('the cooldown suppresses rules, except a hard floor', () => {
    const policies = PolicySpec.parse({
      cooldown: '1d',
      rules: [
        { name: 'drift', when: { drift: { share: 0.5 } } },
        { name: 'floor', when: { metric: 'accuracy', below: 0.5 }, hardFloor: true, breaches: 3 },
      ],
    });
    const cooling = startCooldown(policies, initialPolicyState(), clock.nowMs);
    const quiet = evaluatePolicies(policies, summary({ drifted: ['a', 'b'] }), cooling, clock);
    assert.equal(quiet.fire, false);
    assert.match(quiet.notes.join('\n'), /cooldown until .* suppressed: drift/);
    assert.deepEqual(quiet.breached, ['drift'], 'held but suppressed: breached, not fired');
    const floor = evaluatePolicies(policies, summary({ drifted: ['a', 'b'], accuracy: 0.3 }), cooling, clock);
    assert.deepEqual(
      floor.fired.map((f) => f.rule),
      ['floor'],
      'fires at once, alone, despite breaches: 3 and the cooldown',
    );
    assert.match(floor.fired[0].reason, /hard floor/);
    assert.equal(evaluatePolicies(policies, summary({ drifted: ['a', 'b'] }), cooling, { ...clock, nowMs: clock.nowMs + DAY }).fire, true);
  });

  it('firing restarts the windows, so the same evidence does not fire twice in a row', () => {
    const policies = PolicySpec.parse({ rules: [{ name: 'labels', when: { metric: 'new_labels', atLeast: 10 }, breaches: 2, within: 2 }] });
    let state = initialPolicyState();
    const fires = [20, 20, 20, 20].map((n) => {
      const v = evaluatePolicies(policies, summary({ newLabels: n }), state, clock);
      state = v.state;
      return v.fire;
    });
    assert.deepEqual(fires, [false, true, false, true]);
  });

  it("the first format's shorthand becomes rules with consecutive breaches", () => {
    const policies = PolicySpec.parse({ accuracyBelow: { threshold: 0.7 }, newLabels: { count: 100 }, drift: {}, breachesToFire: 2 });
    assert.deepEqual(
      compileRules(policies).map((r) => [r.name, r.breaches, r.within]),
      [
        ['accuracy', 2, 2],
        ['newLabels', 2, 2],
        ['drift', 2, 2],
      ],
    );
    assert.deepEqual(compileRules(policies)[2].when, { drift: { share: 0.5 } });
  });

  it('rejects malformed policies with readable messages', () => {
    const problems = (input: unknown) => {
      const r = PolicySpec.safeParse(input);
      assert.equal(r.success, false);
      return formatIssues(r.error!);
    };
    assert.match(
      problems({ rules: [{ name: 'x', when: { metric: 'accuracy' } }] }),
      /metric "accuracy" needs exactly one of below, above, atLeast/,
    );
    assert.match(
      problems({ rules: [{ name: 'x', when: { metric: 'accuracy', below: 0.5, drift: { share: 0.5 } } }] }),
      /exactly one of metric, drift, detector, all, any; got metric and drift/,
    );
    assert.match(problems({ rules: [{ name: 'x', when: { metric: 'accuarcy', below: 0.5 } }] }), /rules\.0\.when\.metric/);
    assert.match(
      problems({ rules: [{ name: 'x', when: { detector: 'adwin' }, breaches: 3, within: 2 }] }),
      /"within" must be at least "breaches"/,
    );
    assert.match(
      problems({ accuracyBelow: { threshold: 0.7 }, rules: [{ name: 'accuracy', when: { detector: 'ddm' } }] }),
      /rule names must be unique; repeated: accuracy/,
    );
    assert.match(problems({ rules: [{ name: 'x', when: { any: [] } }] }), /rules\.0\.when\.any/);
  });
});
