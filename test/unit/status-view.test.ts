/** `perennial status <model>` as a table (client/status-view.ts): aligned sections, no borders or colours. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicySpec } from '../../core/policy.ts';
import { statusText, type ModelStatus } from '../../client/status-view.ts';

const status = (over: Partial<ModelStatus> = {}): ModelStatus => ({
  model: 'weather',
  paused: false,
  monitoringNow: false,
  championVersion: '3',
  previousChampions: ['2', '1'],
  retrainCount: 4,
  policies: PolicySpec.parse({ accuracyBelow: { threshold: 0.7 }, breachesToFire: 2, cooldown: '1h' }),
  breaches: { accuracy: 1 },
  policyNotes: ['accuracy: 12 labels, fewer than 30'],
  history: [
    { at: '2025-01-01T10:00:00.000Z', what: 'lifecycle started', reasons: ['champion is v3'] },
    { at: '2025-01-01T11:00:00.000Z', what: 'retrain #4 started', reasons: ['asked by ana: ' + 'fresh data '.repeat(20)] },
  ],
  ...over,
});

describe('statusText', () => {
  it('shows the champion, the stage, the running retrain, the policies and the recent decisions', () => {
    const text = statusText(
      status({ activeRetrain: { workflowId: 'model/weather/retrain/4', trigger: 'asked by ana: fresh data', stage: 'sweep' } }),
      80,
    );
    const lines = text.split('\n');
    assert.equal(lines[0], 'model     weather');
    assert.equal(lines[1], 'champion  v3 (earlier: v2, v1)');
    assert.equal(lines[2], 'stage     retraining');
    assert.equal(lines[3], 'retrain   #4 at sweep (model/weather/retrain/4)');
    assert.equal(lines[4], 'trigger   asked by ana: fresh data');
    assert.match(
      text,
      /\npolicies\n {2}rule {6}fires after {4}breaches now\n {2}accuracy {2}2 of 2 cycles {2}1\n {2}cooldown 1h\n {2}note: accuracy: 12 labels/,
    );
    assert.match(text, /\nrecent decisions \(newest last; --json for all 2\)\n {2}at {19}what/);
    assert.match(text, /\n {2}2025-01-01 10:00:00 {2}lifecycle started {2,}champion is v3\n/);
    for (const line of lines) assert.ok(line.length <= 80, `"${line}" fits 80 columns`);
    assert.ok(!text.includes('\x1b'), 'no colours');
  });

  it('names the stage as the fleet view does', () => {
    assert.match(statusText(status()), /^stage {5}monitoring$/m);
    assert.match(statusText(status({ paused: true })), /^stage {5}paused$/m);
    assert.match(
      statusText(status({ championVersion: undefined, previousChampions: [] })),
      /^champion {2}none yet\nstage {5}no-champion$/m,
    );
    assert.match(
      statusText(status({ retryAt: '2025-01-01T12:00:00.000Z' })),
      /^stage {5}retry-wait\n[^]*^retry {5}at 2025-01-01T12:00:00.000Z$/m,
    );
  });
});
