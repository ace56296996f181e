/**
 * Every Perennial chart is a Vega-Lite spec rendered to SVG here, in Node, without a browser:
 * one look for all of them (the config below), axes and legends from the grammar, and a spec
 * that can be saved next to its chart and opened in the Vega editor.
 *
 * Charts draw the data written into their spec and nothing else: a spec whose data comes from a
 * URL or a file is refused, and the view's loader refuses every load (an image mark's URL too),
 * so rendering never reaches the network or the disk.
 *
 * Vega and Vega-Lite load on the first chart, not with this module: a worker that never draws
 * one (most of them, most of the time) does not pay their import, about 0.8 s of CPU.
 */
import type { TopLevelSpec } from 'vega-lite';

/** The shared look: applied under each spec's own config, which wins where both set a value. */
export const CHART_CONFIG = {
  font: 'sans-serif',
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e8e8e8' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  title: { fontSize: 13, anchor: 'start', subtitleColor: '#555' },
  range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d', '#bab0ac'] },
} as const;

/** Saved with each spec so that editors know its grammar; never fetched here. */
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

// Text widths lay out titles, legends and label limits. Without a canvas Vega guesses 0.8 em per
// character, so long titles get wide blank margins and legend labels early ellipses; this guess
// goes by character class, sized like DejaVu Sans (wider than Arial: text is never cut short).
const EM: Array<[RegExp, number]> = [
  [/[ijlI.,:;'|!()[\]\s]/, 0.32],
  [/[ftr-]/, 0.42],
  [/[mwMW%@]/, 0.95],
  [/[A-Z]/, 0.72],
];
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}
function textWidth(item: TextItem, text: unknown): number {
  let em = 0;
  for (const c of String(text ?? '')) em += EM.find(([re]) => re.test(c))?.[1] ?? 0.62;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  const width = em * (item.fontSize ?? 11) * (bold ? 1.1 : 1);
  // Vega truncates to `limit` with this same function: a longer text is drawn cut to the limit.
  return item.limit && item.limit > 0 ? Math.min(width, item.limit) : width;
}

let engine: Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | undefined;
function loadEngine() {
  engine ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => {
    // The hook Vega keeps for a width function of one's own (vega-scenegraph's textMetrics.width).
    (vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;
    return { vega, compile: vegaLite.compile };
  });
  return engine;
}

export interface RenderedChart {
  svg: string;
  /** The spec as rendered, config included: save it beside the SVG. */
  spec: TopLevelSpec;
}

/** A spec that asks for something outside itself; `field` names where when known, e.g. `layer[1].data.url`. */
export class ChartSpecError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `chart spec ${field}: ${message}` : `chart spec: ${message}`);
    this.name = 'ChartSpecError';
  }
}

export async function renderChart(spec: TopLevelSpec): Promise<RenderedChart> {
  refuseExternalData(spec, '');
  const full = { $schema: SCHEMA, ...spec, config: merge(CHART_CONFIG, spec.config ?? {}) } as TopLevelSpec;
  const { vega, compile } = await loadEngine();
  const asked: string[] = [];
  const refuse = (uri: unknown) => {
    asked.push(String(uri));
    return Promise.reject(new ChartSpecError(`loads "${String(uri)}": charts draw inline data only`));
  };
  const loader = Object.assign(vega.loader(), { fileAccess: false, sanitize: refuse, load: refuse, file: refuse, http: refuse });
  // renderer 'none': no DOM or canvas; toSVG draws the scenegraph as SVG markup.
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: 'none', loader });
  try {
    const svg = await view.toSVG();
    if (asked.length) throw new ChartSpecError(`loads "${asked[0]}": charts draw inline data only`);
    return { svg, spec: full };
  } finally {
    view.finalize();
  }
}

/** Throws on any `data` (top level, layers, concats, lookups) that names a URL instead of holding its values. */
function refuseExternalData(node: unknown, path: string): void {
  if (Array.isArray(node)) return node.forEach((child, i) => refuseExternalData(child, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const at = path ? `${path}.${key}` : key;
    if (key === 'data' && value !== null && typeof value === 'object' && 'url' in value)
      throw new ChartSpecError('charts draw inline data (data.values) only, nothing from a URL or a file', `${at}.url`);
    refuseExternalData(value, at);
  }
}

/** `over` wins; plain objects merge key by key, so a spec can change one axis setting and keep the rest. */
function merge(base: object, over: object): object {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = out[key];
    out[key] = isPlain(under) && isPlain(value) ? merge(under, value) : value;
  }
  return out;
}

const isPlain = (v: unknown): v is object => v !== null && typeof v === 'object' && !Array.isArray(v);
