import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sweepReport } from '../../activities/sweep-report.ts';
import type { TrialSummary } from '../../core/sweep-loop.ts';
import { ModelSpec } from '../../core/spec.ts';
import { markItems, parseSvg, texts } from '../helpers/svg.ts';

const spec = (direction: 'maximize' | 'minimize') =>
  ModelSpec.parse({
    name: 'report',
    features: [{ name: 'x' }],
    label: { name: 'y', classes: ['a', 'b'] },
    training: {
      sweep: { families: { softmax: {} }, objective: { metric: direction === 'maximize' ? 'val_accuracy' : 'val_log_loss', direction } },
    },
  });
const trial = (i: number, objective: number[]): TrialSummary => ({
  trial: i,
  config: { family: 'softmax', params: {} },
  runId: `run-${i}`,
  objective,
  state: objective.length === 3 ? 'completed' : 'pruned',
  paramCount: 10,
  latencyMs: 1,
});

describe('sweepReport', () => {
  it('best so far follows the trial the sweep would pick: the highest rung first, then the score', async () => {
    // Trial 2 scores 0.9 at the first rung but was pruned; trial 1 reached the top rung at 0.8.
    const trials = [trial(0, [0.6]), trial(1, [0.7, 0.75, 0.8]), trial(2, [0.9]), trial(3, [0.7, 0.78, 0.85]), trial(4, [0.5, 0.6, 0.7])];
    const { summary } = await sweepReport(spec('maximize'), trials, 3);
    assert.deepEqual(summary.bestSoFar, [0.6, 0.8, 0.8, 0.85, 0.85]);
    assert.equal(summary.best.trial, 3);
  });

  it('minimizes a loss, and a diverged (NaN) trial never leads', async () => {
    const trials = [trial(0, [NaN]), trial(1, [0.9]), trial(2, [0.5]), trial(3, [0.7])];
    const { summary } = await sweepReport(spec('minimize'), trials, 2);
    assert.deepEqual(summary.bestSoFar, [NaN, 0.9, 0.5, 0.5]);
  });

  it('charts every scored trial by how it ended, the best-so-far step line and the chosen trial, from a spec that holds the data', async () => {
    const trials = [trial(0, [0.6]), trial(1, [0.7, 0.75, 0.8]), trial(2, [0.9]), trial(3, [0.7, 0.78, 0.85]), trial(4, [0.5, 0.6, 0.7])];
    const { summary, chart } = await sweepReport(spec('maximize'), trials, 3);
    const svg = parseSvg(chart.svg);

    const points = markItems(svg, 'trials');
    assert.deepEqual(
      points.map((p) => p.attrs['aria-label']),
      trials.map((t) => `trial: ${t.trial}; val_accuracy: ${t.objective.at(-1)}; trial ended: ${t.state}`),
    );
    // A trial's state is its marker's colour and shape: two states, two looks.
    const look = (state: string) => new Set(points.filter((_, i) => trials[i].state === state).map((p) => `${p.attrs.fill} ${p.attrs.d}`));
    assert.equal(look('completed').size, 1);
    assert.equal(look('pruned').size, 1);
    assert.notDeepEqual([...look('completed')], [...look('pruned')]);
    assert.deepEqual(
      markItems(svg, 'chosen').map((p) => p.attrs['aria-label']),
      ['trial: 3; val_accuracy: 0.85'],
    );
    const [line] = markItems(svg, 'best_so_far');
    const corners = [...line.attrs.d.matchAll(/[ML]([\d.-]+),([\d.-]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    // Steps: every segment level or upright, and one level per best so far (0.6, 0.8, 0.85), each higher.
    corners.slice(1).forEach(([x, y], i) => assert.ok(x === corners[i][0] || y === corners[i][1], line.attrs.d));
    const levels = corners.map(([, y]) => y).filter((y, i, all) => i === 0 || y !== all[i - 1]);
    assert.equal(levels.length, 3, line.attrs.d);
    assert.ok(levels[0] > levels[1] && levels[1] > levels[2], 'rising best so far: y shrinks in SVG');

    assert.deepEqual(texts(svg, 'role-axis-title'), ['trial', 'val_accuracy']);
    assert.deepEqual(texts(svg, 'role-legend-label'), ['completed', 'pruned', 'best so far', 'chosen trial']);
    assert.deepEqual(texts(svg, 'role-title-text'), ['report: val_accuracy by trial']);

    // The saved spec holds exactly what was drawn.
    const saved = JSON.parse(JSON.stringify(chart.spec)) as { data: { values: unknown[] }; config: { font: string } };
    assert.deepEqual(
      saved.data.values,
      trials.map((t, i) => ({
        trial: t.trial,
        state: t.state,
        score: t.objective.at(-1),
        bestSoFar: summary.bestSoFar[i],
        chosen: i === 3,
      })),
    );
    assert.equal(saved.config.font, 'sans-serif', 'the shared look is saved with the spec');
  });

  it('leaves a diverged trial out of the points and saves its score as null', async () => {
    const trials = [trial(0, [NaN]), trial(1, [0.9]), trial(2, [0.5]), trial(3, [0.7])];
    const { chart } = await sweepReport(spec('minimize'), trials, 2);
    assert.deepEqual(
      markItems(parseSvg(chart.svg), 'trials').map((p) => p.attrs['aria-label']),
      [
        'trial: 1; val_log_loss: 0.9; trial ended: pruned',
        'trial: 2; val_log_loss: 0.5; trial ended: pruned',
        'trial: 3; val_log_loss: 0.7; trial ended: pruned',
      ],
    );
    const saved = JSON.parse(JSON.stringify(chart.spec)) as { data: { values: Array<{ score: number | null; bestSoFar: number | null }> } };
    assert.deepEqual(
      saved.data.values.map((v) => [v.score, v.bestSoFar]),
      [
        [null, null],
        [0.9, 0.9],
        [0.5, 0.5],
        [0.7, 0.5],
      ],
    );
  });
});
