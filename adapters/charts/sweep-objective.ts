/**
 * The sweep's objective chart (MLflow `sweep/objective.svg`): each trial's score, marked by how
 * the trial ended, the best-so-far curve as a step line, and the trial the sweep chose ringed.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ObjectiveTrial {
  trial: number;
  state: 'completed' | 'pruned';
  /** The objective at the last rung reached; null when it is not a number (a diverged trial). */
  score: number | null;
  /** The score of the trial the sweep would pick had it stopped here. */
  bestSoFar: number | null;
}

export interface ObjectiveChartInput {
  title: string;
  subtitle?: string;
  /** The objective's name: the y axis title. */
  metric: string;
  trials: ObjectiveTrial[];
  /** The chosen trial's `trial`. */
  chosen: number;
}

const STATES = { domain: ['completed', 'pruned'], color: ['#4c78a8', '#9e9e9e'], shape: ['circle', 'triangle-down'] };
const RED = '#e45756';
const BEST_SO_FAR = 'best so far';
const CHOSEN = 'chosen trial';

export function sweepObjectiveChart(input: ObjectiveChartInput): TopLevelSpec {
  const x = {
    field: 'trial',
    type: 'quantitative',
    title: 'trial',
    scale: { nice: false, padding: 12 },
    axis: { tickMinStep: 1, format: 'd' },
  } as const;
  const y = (field: string) => ({ field, type: 'quantitative', title: input.metric, scale: { zero: false, padding: 12 } }) as const;
  // One red entry each, drawn as its layer's mark: a line for the curve, a ring for the choice.
  const red = (label: string) =>
    ({ datum: label, scale: { domain: [label], range: [RED] }, legend: { title: null, symbolStrokeWidth: 2 } }) as const;
  return {
    title: { text: input.title, ...(input.subtitle ? { subtitle: input.subtitle } : {}) },
    width: 560,
    height: 280,
    data: { values: input.trials.map((t) => ({ ...t, chosen: t.trial === input.chosen })) },
    layer: [
      {
        name: 'best_so_far',
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: { x, y: y('bestSoFar'), stroke: red(BEST_SO_FAR) },
      },
      {
        name: 'trials',
        mark: { type: 'point', filled: true, size: 60, opacity: 1 },
        encoding: {
          x,
          y: y('score'),
          color: { field: 'state', type: 'nominal', title: 'trial ended', scale: { domain: STATES.domain, range: STATES.color } },
          shape: { field: 'state', type: 'nominal', title: 'trial ended', scale: { domain: STATES.domain, range: STATES.shape } },
        },
      },
      {
        name: 'chosen',
        transform: [{ filter: 'datum.chosen' }],
        mark: { type: 'point', filled: false, size: 220, strokeWidth: 2, opacity: 1 },
        encoding: { x, y: y('score'), stroke: red(CHOSEN) },
      },
    ],
    resolve: { scale: { stroke: 'independent' }, legend: { stroke: 'independent' } },
  };
}
