/**
 * The accuracy chart of bench/drift-eval/index.ts as a Vega-Lite spec (rendered by
 * adapters/charts/render.ts): accuracy per window, one line per strategy, triangles where a
 * strategy retrained (hollow when its challenger lost), dashed verticals where the stream
 * changes (e.g. Seattle to New York), the legend below. PURE: returns the spec.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ChartSeries {
  name: string;
  color: string;
  /** One value per window (null: no value, the line breaks). */
  values: Array<number | null>;
  /** Stroke dash pattern, e.g. [6, 4]; solid when absent. */
  dash?: number[];
  /** Windows after which this strategy retrained: a marker at the value of the next window, where the new model starts. */
  retrainsAfter?: number[];
  /** Of retrainsAfter, those whose model was promoted (filled markers); the others kept the champion (hollow). All when absent. */
  promotionsAfter?: number[];
}

export interface ChartInput {
  title: string;
  subtitle?: string;
  /** Label per window for the x axis (only some are printed, to stay readable). */
  xLabels: string[];
  series: ChartSeries[];
  /** Vertical dashed lines before window `at`, labelled. */
  boundaries?: Array<{ at: number; label: string }>;
  yLabel?: string;
}

const PROMOTED = 'retrained, challenger promoted';
const KEPT = 'retrained, champion kept';

export function accuracyChartSpec(input: ChartInput): TopLevelSpec {
  const n = input.xLabels.length;
  // At most ~12 labelled windows; the axis shows a window's label, not its index.
  const every = Math.max(1, Math.ceil(n / 12));
  const x = {
    field: 'window',
    type: 'quantitative' as const,
    title: null,
    scale: { domain: [0, Math.max(1, n - 1)], nice: false },
    axis: {
      values: input.xLabels.map((_, i) => i).filter((i) => i % every === 0),
      labelExpr: `${JSON.stringify(input.xLabels)}[datum.value]`,
      grid: false,
    },
  };
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: input.yLabel ?? null,
    scale: { zero: false },
    axis: { format: '.2f' },
  } as const;
  const names = input.series.map((s) => s.name);
  const series = {
    field: 'series',
    type: 'nominal',
    title: null,
    legend: { direction: 'vertical', symbolStrokeWidth: 2 },
  } as const;
  const lines = input.series.flatMap((s) => s.values.map((accuracy, window) => ({ series: s.name, window, accuracy })));
  const retrains = input.series.flatMap((s) =>
    (s.retrainsAfter ?? []).flatMap((after) => {
      const accuracy = s.values[after + 1];
      if (accuracy === null || accuracy === undefined || !Number.isFinite(accuracy)) return [];
      const promoted = s.promotionsAfter?.includes(after) ?? true;
      return [{ series: s.name, window: after + 1, accuracy, retrain: promoted ? PROMOTED : KEPT }];
    }),
  );
  // A boundary before the first window only labels the start.
  const boundaries = (input.boundaries ?? []).map((b) => ({ at: Math.max(0, b.at - 0.5), label: b.label }));
  // One layer per kind of retrain that happened: filled or hollow is the mark's, not the data's.
  const markers = [PROMOTED, KEPT]
    .filter((kind) => retrains.some((r) => r.retrain === kind))
    .map((kind) => ({
      name: kind === PROMOTED ? 'promoted' : 'kept',
      data: { values: retrains.filter((r) => r.retrain === kind) },
      mark: { type: 'point' as const, shape: 'triangle-up', size: 110, filled: kind === PROMOTED, strokeWidth: 1.5, opacity: 1 },
      encoding: {
        x,
        y,
        color: series,
        shape: {
          field: 'retrain',
          type: 'nominal' as const,
          title: null,
          scale: { domain: [kind], range: ['triangle-up'] },
          legend: { orient: 'top' as const },
        },
      },
    }));
  return {
    title: { text: input.title, ...(input.subtitle ? { subtitle: input.subtitle } : {}), fontSize: 15 },
    width: 800,
    height: 330,
    layer: [
      {
        name: 'boundaries',
        data: { values: boundaries.filter((b) => b.at > 0) },
        mark: { type: 'rule', color: '#999', strokeDash: [5, 4] },
        encoding: { x: { ...x, field: 'at' } },
      },
      {
        name: 'boundary_labels',
        data: { values: boundaries },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 5, dy: 4, color: '#555' },
        encoding: { x: { ...x, field: 'at' }, y: { value: 0 }, text: { field: 'label' } },
      },
      {
        name: 'strategies',
        data: { values: lines },
        mark: { type: 'line', strokeJoin: 'round', strokeWidth: 2 },
        encoding: {
          x,
          y,
          color: { ...series, scale: { domain: names, range: input.series.map((s) => s.color) } },
          strokeDash: { ...series, scale: { domain: names, range: input.series.map((s) => s.dash ?? [1, 0]) } },
        },
      },
      ...markers,
    ],
    resolve: { scale: { shape: 'independent' }, legend: { shape: 'independent' } },
    config: { legend: { columns: 1, labelLimit: 700 } },
  };
}
