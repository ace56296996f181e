/**
 * A feature-importance chart (MLflow `importance/<kind>.svg`): one bar per input feature, largest
 * first, for gain (gbdt) or permutation importance (every family).
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ImportanceChartInput {
  title: string;
  /** The x axis title, e.g. "total split gain" or "drop in holdout accuracy". */
  measure: string;
  importances: Record<string, number>;
}

export function featureImportanceChart(input: ImportanceChartInput): TopLevelSpec {
  const values = Object.entries(input.importances).map(([feature, importance]) => ({ feature, importance }));
  return {
    title: input.title,
    width: 360,
    height: { step: 18 },
    data: { values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: '-x', title: null },
      x: { field: 'importance', type: 'quantitative', title: input.measure },
      tooltip: [
        { field: 'feature', type: 'nominal' },
        { field: 'importance', type: 'quantitative', format: '.4g' },
      ],
    },
  };
}
