/**
 * One feature's distributions in the drift report (monitoring/cycle-N/drift.html): the
 * reference (the champion's training data) and the current window side by side, as shares of
 * their rows; numeric features over their bins on a number axis, categories one group each.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CategoryHistogram, NumericHistogram } from '../../core/drift/data-drift.ts';

export const REFERENCE = 'reference (training)';
export const CURRENT = 'current window';

const color = {
  field: 'side',
  type: 'nominal',
  title: null,
  scale: { domain: [REFERENCE, CURRENT], range: ['#9aa5b1', '#d62728'] },
} as const;
const share = { field: 'share', type: 'quantitative', title: 'share of rows', axis: { format: '.0%', tickCount: 4 } } as const;

export function driftHistogramChart(input: {
  feature: string;
  title: string;
  histogram: NumericHistogram | CategoryHistogram;
}): TopLevelSpec {
  const h = input.histogram;
  const sides = [
    [REFERENCE, h.reference],
    [CURRENT, h.current],
  ] as const;
  const frame = { name: 'bars', title: input.title, width: 360, height: 110 } as const;
  if ('edges' in h) {
    const values = sides.flatMap(([side, shares]) =>
      shares.map((s, i) => ({ side, bin_start: h.edges[i], bin_end: h.edges[i + 1], share: s })),
    );
    return {
      ...frame,
      data: { values },
      // Each bin holds two bars: the reference in its left half, the current window in its right.
      transform: [
        { calculate: '(datum.bin_start + datum.bin_end) / 2', as: 'bin_mid' },
        { calculate: `datum.side === '${REFERENCE}' ? datum.bin_start : datum.bin_mid`, as: 'bar_start' },
        { calculate: `datum.side === '${REFERENCE}' ? datum.bin_mid : datum.bin_end`, as: 'bar_end' },
      ],
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'bar_start', type: 'quantitative', title: input.feature, scale: { zero: false, nice: false } },
        x2: { field: 'bar_end' },
        y: share,
        color,
      },
    };
  }
  const values = sides.flatMap(([side, shares]) => shares.map((s, i) => ({ side, category: h.categories[i], share: s })));
  return {
    ...frame,
    data: { values },
    mark: 'bar',
    encoding: {
      // The histogram's own order: by combined share, "(other)" last.
      x: { field: 'category', type: 'nominal', title: input.feature, sort: null, axis: { labelLimit: 70, labelAngle: -30 } },
      xOffset: { field: 'side', type: 'nominal', sort: [REFERENCE, CURRENT] },
      y: share,
      color,
    },
  };
}
