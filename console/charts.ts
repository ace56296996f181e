/**
 * The model page's charts as Vega-Lite specs, rendered to SVG on the server by
 * adapters/charts/render.ts: monitoring metrics by cycle over time, one line per metric and
 * champion, with the lifecycle's events (retrains, promotions, rollbacks) as rules on the
 * same time axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../adapters/charts/render.ts';
import type { ChartedMetric, MetricSample } from './model-view.ts';
import { EVENT_COLORS, type EventKind, type TimelineEvent } from './timeline.ts';

interface ChartGroup {
  title: string;
  yTitle: string;
  metrics: ChartedMetric[];
  /** Shares are drawn on 0..1, so that a small wobble does not look like a collapse. */
  share: boolean;
}

export const CHART_GROUPS: ChartGroup[] = [
  {
    title: 'Quality by monitoring cycle',
    yTitle: 'share',
    metrics: ['accuracy', 'estimated_accuracy', 'drifted_share', 'low_confidence_share', 'anomaly_rate'],
    share: true,
  },
  { title: 'Errors by monitoring cycle', yTitle: 'error', metrics: ['rmse', 'mae'], share: false },
  { title: 'Traffic by monitoring cycle', yTitle: 'rows', metrics: ['new_rows', 'labelled'], share: false },
];

export function monitoringChartSpec(group: ChartGroup, samples: MetricSample[], events: TimelineEvent[]): TopLevelSpec {
  const kinds = Object.keys(EVENT_COLORS) as EventKind[];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: group.title,
    width: 720,
    height: 200,
    layer: [
      {
        data: { values: samples.filter((s) => group.metrics.includes(s.metric)) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'at', type: 'temporal', title: null },
          y: { field: 'value', type: 'quantitative', title: group.yTitle, ...(group.share && { scale: { domain: [0, 1] } }) },
          color: { field: 'metric', type: 'nominal', title: 'metric', legend: { labelLimit: 200 } },
          // A new champion starts a new line: its cycles count from 1 again.
          detail: { field: 'version', type: 'nominal' },
        },
      },
      {
        data: { values: events },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: 'at', type: 'temporal' },
          color: { field: 'kind', type: 'nominal', title: 'event', scale: { domain: kinds, range: kinds.map((k) => EVENT_COLORS[k]) } },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

/** The SVG of each chart group that has samples, in CHART_GROUPS order. */
export async function monitoringCharts(samples: MetricSample[], events: TimelineEvent[]): Promise<Array<{ title: string; svg: string }>> {
  const drawn = CHART_GROUPS.filter((g) => samples.some((s) => g.metrics.includes(s.metric)));
  return Promise.all(drawn.map(async (g) => ({ title: g.title, svg: (await renderChart(monitoringChartSpec(g, samples, events))).svg })));
}
