/**
 * The fleet view's pure parts: a lifecycle's stage and monitoring verdict (what its search
 * attributes say), and the `perennial list` table, which must fit a terminal whatever the names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lifecycleStage, monitoringVerdict } from '../../core/lifecycle/fleet-view.ts';
import { initialLifecycleState } from '../../core/lifecycle/state.ts';
import { fleetTable, type FleetRow } from '../../client/fleet.ts';

const trigger = { reason: 'accuracy fell', rules: ['accuracy'] };

describe('a lifecycle in the fleet view', () => {
  it('stage: a running retrain first, then a retry waiting, paused, no champion, monitoring', () => {
    const state = { ...initialLifecycleState(), championVersion: '3' };
    assert.equal(lifecycleStage(state, false), 'monitoring');
    assert.equal(lifecycleStage({ ...state, paused: true }, true), 'retraining');
    assert.equal(lifecycleStage({ ...state, retry: { trigger, failures: 1, atMs: 0 } }, false), 'retry-wait');
    assert.equal(lifecycleStage({ ...state, paused: true }, false), 'paused');
    assert.equal(lifecycleStage(initialLifecycleState(), false), 'no-champion');
  });

  it('verdict: fired rules, else breached ones, else ok; long lists are cut', () => {
    const fired = [{ rule: 'accuracy', reason: '', values: {} }];
    assert.equal(monitoringVerdict({ fired, breached: ['drift'] }), 'fired: accuracy');
    assert.equal(monitoringVerdict({ fired: [], breached: ['drift', 'anomalies'] }), 'breached: drift,anomalies');
    assert.equal(monitoringVerdict({ fired: [], breached: [] }), 'ok');
    const many = monitoringVerdict({ fired: [], breached: Array.from({ length: 40 }, (_, i) => `rule-${i}`) });
    assert.equal(many.length, 100);
    assert.ok(many.endsWith('…'));
  });
});

describe('the fleet table', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  const row = (over: Partial<FleetRow>): FleetRow => ({
    model: 'weather',
    workflowId: 'model/weather',
    stage: 'monitoring',
    champion: '2',
    lastTrigger: 'drift',
    lastVerdict: 'ok',
    pendingApprovals: 0,
    updatedAt: '2026-12-02T11:55:00Z',
    ...over,
  });

  it('one line per model with its champion, stage, trigger, verdict, approvals and age', () => {
    const table = fleetTable(
      [
        row({}),
        row({ model: 'flights', champion: undefined, stage: 'retraining', retrainStage: 'awaiting-approval', pendingApprovals: 1 }),
      ],
      100,
      now,
    );
    const lines = table.split('\n');
    assert.match(lines[0], /^model +champion +stage +last trigger +last verdict +approvals +updated$/);
    assert.match(lines[1], /^weather +v2 +monitoring +drift +ok +0 +5m ago$/);
    assert.match(lines[2], /^flights +- +awaiting-approval +drift +ok +1 +5m ago$/);
    assert.equal(lines.at(-1), '2 models; 1 awaiting approval (perennial approve <model>)');
  });

  it('fits the width it is given: long names and verdicts are cut with …', () => {
    const long = row({
      model: 'a-very-long-model-name-for-the-churn-of-the-enterprise-customers',
      lastTrigger: 'accuracy,drift,anomalies,new-labels,schedule',
      lastVerdict: 'breached: accuracy-floor,drift-on-many-features,anomaly-rate',
    });
    for (const width of [100, 80]) {
      const lines = fleetTable([long, row({})], width, now).split('\n');
      for (const line of lines) assert.ok(line.length <= width, `${line.length} > ${width}: ${line}`);
      assert.match(lines[1], /^a-very-lo\S*… /);
      assert.match(lines[2], /^weather /);
    }
  });

  it('says how to start when no model runs', () => {
    assert.match(fleetTable([], 100, now), /no managed model is running/);
  });
});
