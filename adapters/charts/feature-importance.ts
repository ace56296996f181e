/**
 * Permutation importance of the challenger and the champion side by side (MLflow
 * `importance/permutation.svg` on the challenger's run): one row per feature, most important to
 * the challenger first, a bar per model with a whisker of one standard deviation over repeats.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ImportanceBar {
  feature: string;
  model: string;
  mean: number;
  std: number;
}

export interface ImportanceChartInput {
  title: string;
  subtitle?: string;
  /** The x axis title: what the loss is measured in. */
  measure: string;
  /** Features in display order, top first. */
  features: string[];
  /** Models in legend order (the challenger first). */
  models: string[];
  bars: ImportanceBar[];
}

const COLORS = ['#4c78a8', '#9aa5b1'];

export function featureImportanceChart(input: ImportanceChartInput): TopLevelSpec {
  const y = { field: 'feature', type: 'nominal', title: null, sort: input.features } as const;
  const yOffset = { field: 'model', type: 'nominal', sort: input.models } as const;
  const x = { field: 'mean', type: 'quantitative', title: input.measure } as const;
  return {
    title: { text: input.title, ...(input.subtitle ? { subtitle: input.subtitle } : {}) },
    width: 480,
    // Room for each model's bar in each feature's row.
    height: input.features.length * (14 * input.models.length + 10),
    data: { values: input.bars.map((b) => ({ ...b, low: b.mean - b.std, high: b.mean + b.std })) },
    encoding: { y, yOffset },
    layer: [
      {
        name: 'bars',
        mark: { type: 'bar', height: 12 },
        encoding: {
          x,
          color: { field: 'model', type: 'nominal', title: null, sort: input.models, scale: { domain: input.models, range: COLORS } },
        },
      },
      {
        name: 'spread',
        mark: { type: 'rule', color: '#333' },
        encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } },
      },
    ],
  };
}
