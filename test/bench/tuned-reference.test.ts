/**
 * bench/automl/tuned_reference.py, the tuned gradient-boosting anchors of `npm run bench -- automl`,
 * on tiny splits in the format bench/automl/quality.ts writes: two Optuna trials per learner, the
 * output's shape, the trial and wall-time budgets obeyed, and tuned models far better than a
 * constant predictor on tasks with a clear signal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { derive } from '../../core/stats/rng.ts';
import { VENV_BIN } from '../../stack/services.ts';
import { tempDir } from '../helpers/services.ts';

const SCRIPT = join(PROJECT_ROOT, 'bench', 'automl', 'tuned_reference.py');
const ANCHORS = ['hist_gradient_boosting', 'lightgbm'];
const GROUPS = ['p', 'q', 'r'];

/** Rows with a clear signal: the class flips with a threshold on `a` and group q; y is smooth in a, b and the group. */
function rows(n: number, seed: number, regression: boolean) {
  const rng = derive(seed);
  return Array.from({ length: n }, () => {
    const a = rng.uniform();
    const b = rng.uniform();
    const group = rng.choice(GROUPS);
    const y = regression ? String(10 * a * b + (group === 'q' ? 3 : 0) + 0.3 * rng.normal()) : a > 0.5 !== (group === 'q') ? 'yes' : 'no';
    // Some missing numbers: the learners route them natively.
    return { a, b: rng.uniform() < 0.1 ? null : b, group, y };
  });
}

function split(name: string, regression: boolean, budget: { maxTrials: number; maxWallTimeSeconds: number }) {
  return {
    name,
    source: 'test',
    features: [
      { name: 'a', type: 'number' },
      { name: 'b', type: 'number' },
      { name: 'group', type: 'category', values: GROUPS },
    ],
    label: 'y',
    classes: regression ? null : ['no', 'yes'],
    objective: regression ? { metric: 'val_rmse', direction: 'minimize' } : { metric: 'val_accuracy', direction: 'maximize' },
    budget,
    seed: 7,
    tpeStartupTrials: 5,
    train: rows(200, 1, regression),
    validation: rows(60, 2, regression),
    holdout: rows(100, 3, regression),
  };
}

function run(splits: ReturnType<typeof split>[]) {
  const dir = tempDir('perennial-tuned-reference-');
  const files = splits.map((s) => {
    const file = join(dir, `${s.name}.json`);
    writeFileSync(file, JSON.stringify(s));
    return file;
  });
  const out = execFileSync(join(VENV_BIN, 'python'), [SCRIPT, ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as Record<string, Record<string, Record<string, unknown>> & { metric: string }>;
}

describe('tuned gradient-boosting anchors (bench/automl/tuned_reference.py)', () => {
  it('tunes both learners within the trial and wall-time budgets, and beats a constant predictor', () => {
    const out = run([
      split('tiny-classes', false, { maxTrials: 2, maxWallTimeSeconds: 60 }),
      split('tiny-numbers', true, { maxTrials: 2, maxWallTimeSeconds: 60 }),
      // The wall-time limit, not the trial count, ends this study: after its first trial.
      split('tiny-timeout', false, { maxTrials: 50, maxWallTimeSeconds: 0.001 }),
    ]);
    assert.deepEqual(Object.keys(out).sort(), ['tiny-classes', 'tiny-numbers', 'tiny-timeout']);
    assert.equal(out['tiny-classes'].metric, 'accuracy');
    assert.equal(out['tiny-numbers'].metric, 'rmse');
    for (const [task, scores] of Object.entries(out)) {
      const constant = scores.constant.holdout as number;
      for (const anchor of ANCHORS) {
        const s = scores[anchor];
        assert.deepEqual(
          Object.keys(s).sort(),
          [
            'best',
            'bestValObjective',
            'holdout',
            'trials',
            'wallTimeS',
            ...(scores.metric === 'accuracy' ? ['holdoutLogLoss'] : []),
          ].sort(),
          `${task} ${anchor}`,
        );
        assert.equal(s.trials, task === 'tiny-timeout' ? 1 : 2, `${task} ${anchor} trials`);
        assert.ok((s.wallTimeS as number) > 0, `${task} ${anchor} wall time ${s.wallTimeS}`);
        assert.ok((s.best as Record<string, number>).rounds >= 1, `${task} ${anchor} boosting rounds`);
        const holdout = s.holdout as number;
        if (scores.metric === 'accuracy') {
          assert.ok(holdout >= 0.9 && holdout > constant + 0.3, `${task} ${anchor}: accuracy ${holdout} vs constant ${constant}`);
        } else {
          assert.ok(holdout < 0.5 * constant, `${task} ${anchor}: rmse ${holdout} vs constant ${constant}`);
        }
      }
    }
  });
});
