/**
 * Every Perennial chart is a Vega-Lite spec rendered to SVG here, in Node, without a browser:
 * one look for all of them (the config below), axes and legends from the grammar, and a spec
 * that can be saved next to its chart and opened in the Vega editor.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The shared look: applied under each spec's own config, which wins where both set a value. */
export const CHART_CONFIG = {
  font: 'sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e8e8e8' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  title: { fontSize: 13, anchor: 'start' },
  range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d', '#bab0ac'] },
} as const;

export interface RenderedChart {
  svg: string;
  /** The spec as rendered, config included: save it beside the SVG. */
  spec: TopLevelSpec;
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  const full = { ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  // renderer 'none': no DOM or canvas; toSVG draws the scenegraph as SVG markup.
  const view = new View(parse(compile(full).spec), { renderer: 'none' });
  try {
    return { svg: await view.toSVG(), spec: full };
  } finally {
    view.finalize();
  }
}
