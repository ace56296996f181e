/**
 * How `perennial follow` renders what it polls (client/follow-view.ts): the ETA's arithmetic,
 * plain lines (one per change, no ANSI), the progress bars' frame on a terminal, and the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SweepStatus } from '../../core/messages.ts';
import {
  BarView,
  endLine,
  formatDuration,
  PlainView,
  sweepEtaMs,
  sweepLine,
  type FollowedRetrain,
  type Output,
} from '../../client/follow-view.ts';
import { outcomeReason } from '../../client/follow.ts';

const ESC = String.fromCharCode(27);
/** Cursor moves, line clears and cursor save/restore: what is left is the text drawn. */
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[78]`, 'g');
const T0 = Date.parse('2025-01-01T00:00:00Z');
const sweep = (over: Partial<SweepStatus> = {}): SweepStatus => ({
  trials: 3,
  trialsDone: 0,
  maxTrials: 3,
  rungsDone: 0,
  rungsPlanned: 4,
  rungs: [3, 9],
  epochsDone: 0,
  epochsPlanned: 15,
  rungMs: 0,
  parallelism: 2,
  metric: 'val_accuracy',
  wallTimeEndsAt: new Date(T0 + 30 * 60_000).toISOString(),
  ...over,
});
const retrain: FollowedRetrain = { model: 'm', workflowId: 'model/m/retrain/2', n: 2, trigger: 'asked by ana: fresh data' };

/** A stand-in for stdout that keeps what was written. */
function captured(isTTY: boolean): Output & { text: string } {
  return {
    isTTY,
    columns: 120,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('sweepEtaMs', () => {
  it('is the mean time per epoch of finished rungs x epochs left / parallelism', () => {
    // Two first rungs of 3 epochs took 6 s and 8 s: 14 s / 6 epochs; 9 epochs left on 2 lanes.
    const s = sweep({ rungsDone: 2, epochsDone: 6, rungMs: 14_000 });
    assert.equal(sweepEtaMs(s, T0), ((14_000 / 6) * 9) / 2);
  });

  it('counts down from when the progress was read, to zero at the least', () => {
    const s = sweep({ rungsDone: 2, epochsDone: 6, rungMs: 12_000 }); // 2 s per epoch: 9 s left
    assert.equal(sweepEtaMs(s, T0, T0 + 4000), 5000);
    assert.equal(sweepEtaMs(s, T0, T0 + 20_000), 0);
  });

  it('never runs past the wall-time budget', () => {
    const s = sweep({ rungsDone: 1, epochsDone: 3, rungMs: 600_000, wallTimeEndsAt: new Date(T0 + 60_000).toISOString() });
    assert.equal(sweepEtaMs(s, T0), 60_000);
  });

  it('is unknown before a first rung finished, and while the sweep waits for a permit', () => {
    assert.equal(sweepEtaMs(sweep(), T0), undefined);
    assert.equal(sweepEtaMs(sweep({ epochsDone: 3, rungMs: 1000, permit: 'waiting for a training permit (1 ahead)' }), T0), undefined);
  });

  it('is zero once the budget is trained', () => {
    assert.equal(sweepEtaMs(sweep({ rungsDone: 4, epochsDone: 15, rungMs: 30_000, trialsDone: 3 }), T0), 0);
  });
});

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(44_600), '45s');
    assert.equal(formatDuration(200_000), '3m 20s');
    assert.equal(formatDuration(3_900_000), '1h 05m');
  });
});

describe('sweepLine', () => {
  it('says trials done of the budget, rungs, the best objective and the ETA', () => {
    const s = sweep({ trialsDone: 2, rungsDone: 3, epochsDone: 9, rungMs: 18_000, best: 1, bestObjective: 0.81234 });
    assert.equal(sweepLine(s, T0), 'sweep: 2/3 trials done, 3/4 trial rungs, best val_accuracy 0.8123 (trial 1), ETA 6s');
    assert.equal(sweepLine(sweep(), T0), 'sweep: 0/3 trials done, 0/4 trial rungs, best none yet');
    assert.equal(sweepLine(sweep({ permit: 'waiting for a training permit' }), T0), 'sweep: waiting for a training permit');
  });
});

describe('PlainView', () => {
  it('prints one line per change and nothing when nothing changed', () => {
    const out = captured(false);
    const view = new PlainView(out);
    view.start(retrain);
    const started = { at: '', what: 'retrain #2 started', reasons: ['asked by ana: fresh data'] };
    view.show({ stage: 'snapshot', decisions: [started] }, T0);
    view.show({ stage: 'snapshot', decisions: [started] }, T0 + 1000);
    const snapshot = { at: '', what: 'snapshot of 365 labelled records', reasons: ['content hash ab12'] };
    view.show({ stage: 'sweep', decisions: [started, snapshot], sweep: sweep(), sweepReadAt: T0 + 2000 }, T0 + 2000);
    view.show({ stage: 'sweep', decisions: [started, snapshot], sweep: sweep(), sweepReadAt: T0 + 3000 }, T0 + 3000);
    // A worker restarts: the query fails once, says so once, and the last answers stand.
    view.show({ stage: 'sweep', decisions: [started, snapshot], sweep: sweep(), trouble: 'no poller' }, T0 + 4000);
    view.show({ stage: 'sweep', decisions: [started, snapshot], sweep: sweep(), trouble: 'no poller' }, T0 + 5000);
    const after = sweep({ trialsDone: 3, rungsDone: 4, epochsDone: 15, rungMs: 30_000, best: 0, bestObjective: 0.8 });
    view.show({ stage: 'evaluate', decisions: [started, snapshot], sweep: after, sweepReadAt: T0 + 6000 }, T0 + 6000);
    view.finish(endLine(retrain, { outcome: 'promoted', reason: 'promoted version 2 to champion', failed: false }));
    assert.equal(
      out.text,
      [
        'following retrain #2 of m (model/m/retrain/2), trigger: asked by ana: fresh data',
        '  retrain #2 started (asked by ana: fresh data)',
        'stage: snapshot',
        '  snapshot of 365 labelled records (content hash ab12)',
        'stage: sweep',
        'sweep: 0/3 trials done, 0/4 trial rungs, best none yet',
        'no answer from the retrain (no poller); trying again',
        'stage: evaluate',
        'sweep: 3/3 trials done, 4/4 trial rungs, best val_accuracy 0.8000 (trial 0), ETA 0s',
        'retrain #2 of m ended: promoted (promoted version 2 to champion)',
        '',
      ].join('\n'),
    );
  });
});

describe('BarView', () => {
  it('draws a status line and bars of trials and trial rungs on a terminal, with decisions above', () => {
    const out = captured(true);
    const view = new BarView(out);
    view.start(retrain);
    const s = sweep({ trialsDone: 2, rungsDone: 3, epochsDone: 9, rungMs: 18_000, best: 1, bestObjective: 0.81234 });
    view.show(
      { stage: 'sweep', decisions: [{ at: '', what: 'snapshot of 365 labelled records', reasons: [] }], sweep: s, sweepReadAt: T0 },
      T0 + 1000,
    );
    view.finish(endLine(retrain, 'stopped'));
    assert.ok(out.text.includes(`${ESC}[`), 'a terminal gets ANSI cursor control');
    const frame = out.text.replace(ANSI, '');
    assert.match(frame, /following retrain #2 of m \(model\/m\/retrain\/2\), trigger: asked by ana: fresh data\n/);
    assert.match(frame, / {2}snapshot of 365 labelled records\n/);
    assert.match(frame, /stage: sweep\n/);
    assert.match(frame, /\nsweep for 0s\n/, 'the status line: the stage, and for how long');
    // 2 of 3 trials is 20 of the bar's 30 cells; 3 of 4 rungs 22.5, drawn as 23.
    assert.match(frame, /trials \|█{20}░{10}\| 2\/3 done, best val_accuracy 0\.8123 \(trial 1\)/);
    assert.match(frame, /rungs {2}\|█{23}░{7}\| 3\/4 trained, ETA 5s/);
    assert.match(frame, /stopped following retrain #2 of m; it goes on \(perennial follow m picks it up again\)\n$/);
  });
});

describe('endLine and outcomeReason', () => {
  it('says what the retrain decided and why, or how it failed', () => {
    const decisions = [
      { at: '', what: 'challenger beats the champion', reasons: ['challenger 0.830 vs champion v1 0.800 on 73 recent holdout rows'] },
      { at: '', what: 'promoted version 2 to champion', reasons: [] },
    ];
    assert.equal(
      outcomeReason({ outcome: 'promoted', decisions }),
      'promoted version 2 to champion; challenger 0.830 vs champion v1 0.800 on 73 recent holdout rows',
    );
    const rejected = [{ at: '', what: 'rejected by ana', reasons: ['too slow'] }];
    assert.equal(outcomeReason({ outcome: 'rejected', decisions: rejected }), 'rejected by ana; too slow');
    assert.equal(
      endLine(retrain, { outcome: 'failed', reason: 'MLflow unreachable', failed: true }),
      'retrain #2 of m failed (MLflow unreachable)',
    );
  });
});
