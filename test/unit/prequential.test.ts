import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelSpec } from '../../core/spec.ts';
import {
  compareWithAnchor,
  consecutiveWindows,
  dayWindows,
  everyWindows,
  INITIAL_MODEL,
  lastRows,
  PolicyMonitor,
  prequential,
  rollingAccuracy,
  streamAccuracy,
  trainedThrough,
  type ServedWindow,
} from '../../core/prequential.ts';
import type { ReferenceProfile } from '../../core/profile.ts';

const days = (segment: string, from: number, count: number) => Array.from({ length: count }, (_, i) => ({ segment, day: from + i }));
const dayWindowsOf = (rows: Array<{ segment: string; day: number }>, n: number) =>
  dayWindows(rows, { days: n, dayOf: (r) => r.day, segmentOf: (r) => r.segment });

describe('dayWindows', () => {
  it('cuts each segment into windows of n days counted from its first day', () => {
    const windows = dayWindowsOf([...days('Seattle', 100, 60), ...days('New York', 0, 90)], 30);
    assert.deepEqual(
      windows.map((w) => [w.segment, w.index, w.rows.length]),
      [
        ['Seattle', 0, 30],
        ['Seattle', 1, 30],
        ['New York', 0, 30],
        ['New York', 1, 30],
        ['New York', 2, 30],
      ],
    );
    assert.equal(windows[2].rows[0].day, 0, 'a new segment restarts the count, even when its days are earlier');
  });

  it('joins a last window shorter than half a window to the one before it, and keeps a longer one', () => {
    assert.deepEqual(
      dayWindowsOf(days('Seattle', 0, 365), 30).map((w) => w.rows.length),
      [...Array(11).fill(30), 35],
    );
    assert.deepEqual(
      dayWindowsOf(days('New York', 0, 1461), 30).map((w) => w.rows.length),
      [...Array(48).fill(30), 21],
    );
    assert.deepEqual(
      dayWindowsOf(days('x', 0, 10), 30).map((w) => w.rows.length),
      [10],
      'a lone short window stays',
    );
  });

  it('numbers windows without holes across gaps in the data', () => {
    const windows = dayWindowsOf([...days('x', 0, 30), ...days('x', 90, 30)], 30);
    assert.deepEqual(
      windows.map((w) => w.index),
      [0, 1],
    );
  });

  it('refuses days that go backwards within a segment, and non-positive lengths', () => {
    assert.throws(
      () =>
        dayWindowsOf(
          [
            { segment: 'x', day: 5 },
            { segment: 'x', day: 4 },
          ],
          30,
        ),
      RangeError,
    );
    assert.throws(() => dayWindowsOf(days('x', 0, 3), 0), RangeError);
  });
});

describe('consecutiveWindows and lastRows', () => {
  it('groups runs of equal keys in order', () => {
    const w = consecutiveWindows(['2001/01/03', '2001/01/09', '2001/02/01', '2001/03/30'], (d) => d.slice(0, 7));
    assert.deepEqual(
      w.map((x) => [x.segment, x.rows.length]),
      [
        ['2001/01', 2],
        ['2001/02', 1],
        ['2001/03', 1],
      ],
    );
  });

  it('takes the most recent n rows (all when fewer)', () => {
    assert.deepEqual(lastRows([1, 2, 3, 4], 2), [3, 4]);
    assert.deepEqual(lastRows([1, 2], 5), [1, 2]);
    assert.throws(() => lastRows([1], 0), RangeError);
  });
});

describe('prequential', () => {
  /** The initial model gets half right; a retrained one all of the window after its training, one fewer each window after. */
  const serve = async (model: string, w: number) => ({
    n: 10,
    correct: model === INITIAL_MODEL ? 5 : 10 - (w - Number(model.split(' ')[1]) - 1),
  });

  it('scores each window with the model in service, then lets the strategy retrain for the next one', async () => {
    const run = await prequential(7, serve, everyWindows(3));
    assert.deepEqual(run.retrainsAfter, [2, 5]);
    assert.deepEqual(run.promotionsAfter, [2, 5]);
    assert.deepEqual(
      run.scores.map((s) => s.model),
      ['initial', 'initial', 'initial', 'through 2', 'through 2', 'through 2', 'through 5'],
    );
    assert.deepEqual(
      run.scores.map((s) => s.correct),
      [5, 5, 5, 10, 9, 8, 10],
    );
  });

  it('is not asked after the last window: nothing is left to serve', async () => {
    const asked: number[] = [];
    const run = await prequential(4, serve, (w) => (asked.push(w), { serves: trainedThrough(w) }));
    assert.deepEqual(asked, [0, 1, 2]);
    assert.deepEqual(run.retrainsAfter, [0, 1, 2]);
  });

  it('counts a retrain whose challenger lost as a retrain, not a promotion, and keeps the champion serving', async () => {
    // Retrain after every window; only the challenger trained through window 1 wins.
    const run = await prequential(5, serve, (w, _outcome, champion) => ({ serves: w === 1 ? trainedThrough(w) : champion }));
    assert.deepEqual(run.retrainsAfter, [0, 1, 2, 3]);
    assert.deepEqual(run.promotionsAfter, [1]);
    assert.deepEqual(
      run.scores.map((s) => s.model),
      ['initial', 'initial', 'through 1', 'through 1', 'through 1'],
    );
  });

  it('compares strategies with the anchor: gap in points, share of its retrains', async () => {
    const runs = { anchor: await prequential(4, serve, everyWindows(1)), never: await prequential(4, serve, () => false) };
    assert.equal(streamAccuracy(runs.anchor.scores), 35 / 40);
    const c = compareWithAnchor(runs, 'anchor');
    assert.equal(c.anchor.gapPoints, 0);
    assert.equal(c.anchor.gapSePoints, 0);
    // d = [0, -5, -5, -5] correct, n = 10 per window, gap -0.375: e = [3.75, -1.25, -1.25, -1.25],
    // sqrt(4/3 * 18.75) / 40 = 0.125
    assert.ok(Math.abs(c.never.gapSePoints - 12.5) < 1e-9);
    assert.equal(c.anchor.retrainShare, 1);
    assert.ok(Math.abs(c.never.gapPoints - 100 * (20 / 40 - 35 / 40)) < 1e-9);
    assert.equal(c.never.retrains, 0);
    assert.equal(c.anchor.promotions, 3);
    assert.equal(c.never.retrainShare, 0);
    assert.throws(() => compareWithAnchor(runs, 'missing'), RangeError);
  });

  it('smooths by a row-weighted trailing mean', () => {
    const scores = [
      { window: 0, model: INITIAL_MODEL, n: 10, correct: 10 },
      { window: 1, model: INITIAL_MODEL, n: 30, correct: 0 },
      { window: 2, model: INITIAL_MODEL, n: 10, correct: 10 },
    ];
    assert.deepEqual(rollingAccuracy(scores, 2), [1, 10 / 40, 10 / 40]);
    assert.deepEqual(rollingAccuracy(scores, 1), [1, 0, 1]);
  });
});

describe('PolicyMonitor', () => {
  const spec = (policies: unknown, monitoring: unknown = {}) =>
    ModelSpec.parse({
      name: 'm',
      features: [{ name: 'x', type: 'number' }],
      label: { name: 'y', classes: ['a', 'b'] },
      monitoring: { interval: '5s', ...(monitoring as object) },
      policies,
    });
  const profile: ReferenceProfile = {
    version: 1,
    rows: 100,
    features: { x: { n: 100, missing: 0, mean: 0.5, std: 0.29, min: 0, max: 1, sample: Array.from({ length: 100 }, (_, i) => i / 99) } },
    classCounts: { a: 50, b: 50 },
  };
  /** A window of n rows, x spread over [shift, shift + 1), all predicted 'a', the first `wrong` labelled 'b'. */
  const window = (n: number, wrong = 0, shift = 0): ServedWindow => ({
    rows: Array.from({ length: n }, (_, i) => ({ x: shift + i / n })),
    truth: Array.from({ length: n }, (_, i) => (i < wrong ? 'b' : 'a')),
    predicted: Array(n).fill('a'),
    probabilities: Array(n).fill({ a: 0.9, b: 0.1 }),
  });

  it('counts new labels since the training data and holds retrains back for cooldown / interval cycles', () => {
    const monitor = new PolicyMonitor(spec({ cooldown: '15s', rules: [{ name: 'fresh', when: { metric: 'new_labels', atLeast: 60 } }] }));
    const fired: number[] = [];
    for (let cycle = 1; cycle <= 12; cycle++) {
      const { fired: rules, summary } = monitor.observe(window(30), 'v1', profile);
      assert.equal(summary.newRows, 30);
      if (rules.length) {
        fired.push(cycle);
        monitor.retrainStarted();
      }
    }
    // 60 labels after 2 cycles; then 3 cycles of cooldown (15s / 5s) although 60 labels are there again after 2.
    assert.deepEqual(fired, [2, 5, 8, 11]);
    assert.deepEqual(monitor.tally.fresh, { fired: 4, heldBack: 3, unmeasured: 0 });
  });

  it('judges label metrics only with minLabels labels in the cycle', () => {
    const monitor = new PolicyMonitor(spec({ rules: [{ name: 'accuracy', when: { metric: 'accuracy', below: 0.9, minLabels: 50 } }] }));
    assert.equal(monitor.observe(window(30, 20), 'v1', profile).fired.length, 0);
    assert.deepEqual(
      monitor.observe(window(60, 20), 'v1', profile).fired.map((f) => f.rule),
      ['accuracy'],
    );
    assert.deepEqual(monitor.tally.accuracy, { fired: 1, heldBack: 0, unmeasured: 1 });
  });

  it('tests input drift once minRows predictions arrived, over all of them, against the serving model profile', () => {
    const monitor = new PolicyMonitor(
      spec({ rules: [{ name: 'drift', when: { drift: { share: 1 } } }] }, { drift: { minRows: 100, pValue: 0.001 } }),
    );
    const cycles = [1, 2, 3, 4].map(() => monitor.observe(window(30, 0, 5), 'v1', profile));
    assert.deepEqual(
      cycles.map((c) => c.summary.drift.tested),
      [false, false, false, true],
    );
    assert.deepEqual(
      cycles.map((c) => c.summary.drift.rows),
      [30, 60, 90, 120],
    );
    assert.deepEqual(cycles[3].summary.drift.drifted, ['x']);
    assert.deepEqual(
      cycles[3].fired.map((f) => f.rule),
      ['drift'],
    );
    assert.equal(monitor.observe(window(30, 0, 5), 'v1', profile).summary.drift.rows, 30, 'the count restarts after a test');
  });

  it('runs the detectors on the error stream and restarts them for a new model', () => {
    const monitor = new PolicyMonitor(spec({ rules: [{ name: 'ddm', when: { detector: 'ddm' } }] }));
    let alarm = false;
    for (let i = 0; i < 20 && !alarm; i++) alarm = monitor.observe(window(50, 0), 'v1', profile).summary.detectors.ddm.drift;
    assert.equal(alarm, false, 'no errors, no alarm');
    let cycles = 0;
    while (!alarm && cycles++ < 20) alarm = monitor.observe(window(50, 40), 'v1', profile).summary.detectors.ddm.drift;
    assert.ok(alarm, 'an error rate of 80% after 0% is drift');
    monitor.promoted();
    // A fresh DDM needs more than its warm-up of 30 values before it can signal anything.
    assert.equal(monitor.observe(window(20, 20), 'v2', profile).summary.detectors.ddm.drift, false);
  });

  it('keeps the champion judged as before when its challenger lost: only a promotion restarts the detectors', () => {
    const afterRetrain = (promoted: boolean) => {
      const monitor = new PolicyMonitor(spec({ rules: [{ name: 'ddm', when: { detector: 'ddm' } }] }));
      for (let i = 0; i < 4; i++) monitor.observe(window(50, 0), 'v1', profile);
      monitor.retrainStarted();
      if (promoted) monitor.promoted();
      return monitor.observe(window(20, 20), promoted ? 'v2' : 'v1', profile).summary.detectors.ddm.drift;
    };
    assert.equal(afterRetrain(false), true, '200 right then 20 wrong: drift on the same detector');
    assert.equal(afterRetrain(true), false, 'a new champion has a fresh detector, still warming up');
  });

  it('an online update restarts the new-label count without a cooldown, and its promotion keeps the breaches', () => {
    const policies = {
      cooldown: '30s',
      rules: [
        { name: 'fresh', when: { metric: 'new_labels', atLeast: 100 } },
        { name: 'accuracy', when: { metric: 'accuracy', below: 0.9, minLabels: 50 }, breaches: 2, within: 3 },
      ],
    };
    const monitor = new PolicyMonitor(spec(policies));
    assert.equal(monitor.observe(window(60), 'v1', profile).summary.newLabels, 60);
    monitor.updateStarted();
    assert.equal(monitor.observe(window(60), 'v1', profile).summary.newLabels, 60, 'counted from the update on');
    // 60 + 60 = 120 labels since the update: fresh fires at once, no cooldown held it back.
    assert.deepEqual(
      monitor.observe(window(60), 'v1', profile).fired.map((f) => f.rule),
      ['fresh'],
    );

    // One accuracy breach on v2, then an update of v2 is promoted: the second breach, on v3, fires
    // (after a full retrain's promotion the windows would restart).
    const breachThenUpdate = (promotion: 'update' | 'full') => {
      const m = new PolicyMonitor(spec({ rules: [policies.rules[1]] }));
      assert.equal(m.observe(window(60, 30), 'v2', profile).fired.length, 0);
      if (promotion === 'update') {
        m.updateStarted();
        m.updatePromoted();
      } else {
        m.retrainStarted();
        m.promoted();
      }
      return m.observe(window(60, 30), 'v3', profile).fired.map((f) => f.rule);
    };
    assert.deepEqual(breachThenUpdate('update'), ['accuracy']);
    assert.deepEqual(breachThenUpdate('full'), []);
  });
});
