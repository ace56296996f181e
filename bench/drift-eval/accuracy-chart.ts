/**
 * A small self-contained SVG line chart for bench/drift-eval/index.ts: accuracy per window, one line per
 * strategy, markers where a strategy retrained, dashed verticals where the stream changes (e.g.
 * Seattle to New York), and a legend below the plot, one series per row. PURE: returns the SVG text.
 */

export interface ChartSeries {
  name: string;
  color: string;
  /** One value per window (null: no value, the line breaks). */
  values: Array<number | null>;
  dash?: string;
  width?: number;
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

const W = 900;
const PLOT = { left: 64, right: 48, top: 64, height: 330 };
const LEGEND_ROW = 22;

/** The chart as SVG text (width 900; height grows with the legend). */
export function accuracyChartSvg(input: ChartInput): string {
  const n = input.xLabels.length;
  const values = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const [lo, hi] = yRange(values);
  const plotWidth = W - PLOT.left - PLOT.right;
  const bottom = PLOT.top + PLOT.height;
  const x = (i: number) => PLOT.left + (n <= 1 ? plotWidth / 2 : (i / (n - 1)) * plotWidth);
  const y = (v: number) => bottom - ((v - lo) / (hi - lo)) * PLOT.height;
  const height = bottom + 44 + input.series.length * LEGEND_ROW + 8;
  const parts: string[] = [];

  parts.push(`<rect x="0" y="0" width="${W}" height="${height}" fill="white"/>`);
  parts.push(text(PLOT.left, 26, input.title, { size: 17, weight: 'bold' }));
  if (input.subtitle) parts.push(text(PLOT.left, 46, input.subtitle, { size: 12, fill: '#555' }));

  // grid and y axis
  for (const v of ticks(lo, hi)) {
    parts.push(`<line x1="${PLOT.left}" x2="${W - PLOT.right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e5e5e5"/>`);
    parts.push(text(PLOT.left - 8, y(v) + 4, v.toFixed(2), { size: 11, anchor: 'end', fill: '#444' }));
  }
  if (input.yLabel)
    parts.push(
      `<text x="16" y="${f(PLOT.top + PLOT.height / 2)}" font-size="12" fill="#444" text-anchor="middle" font-family="sans-serif" transform="rotate(-90 16 ${f(PLOT.top + PLOT.height / 2)})">${esc(input.yLabel)}</text>`,
    );
  parts.push(`<line x1="${PLOT.left}" x2="${W - PLOT.right}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`);
  parts.push(`<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${bottom}" stroke="#888"/>`);

  // x labels: at most ~12, evenly spaced
  const step = Math.max(1, Math.ceil(n / 12));
  for (let i = 0; i < n; i += step) {
    parts.push(`<line x1="${f(x(i))}" x2="${f(x(i))}" y1="${bottom}" y2="${bottom + 4}" stroke="#888"/>`);
    parts.push(text(x(i), bottom + 18, input.xLabels[i], { size: 10, anchor: 'middle', fill: '#444' }));
  }

  for (const b of input.boundaries ?? []) {
    // A boundary before the first window only labels the start.
    const bx = Math.max(PLOT.left, x(b.at - 0.5));
    if (bx > PLOT.left)
      parts.push(`<line x1="${f(bx)}" x2="${f(bx)}" y1="${PLOT.top}" y2="${bottom}" stroke="#999" stroke-dasharray="5 4"/>`);
    parts.push(text(bx + 5, PLOT.top + 13, b.label, { size: 11, fill: '#555' }));
  }

  for (const s of input.series) {
    parts.push(
      `<path d="${linePath(s.values, x, y)}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`,
    );
    for (const after of s.retrainsAfter ?? []) {
      const v = s.values[after + 1];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      parts.push(marker(x(after + 1), y(v), s.color, s.promotionsAfter?.includes(after) ?? true));
    }
  }

  // legend below the axis labels
  const legendTop = bottom + 40;
  input.series.forEach((s, i) => {
    const lx = PLOT.left;
    const ly = legendTop + i * LEGEND_ROW;
    parts.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    if (s.retrainsAfter?.length) parts.push(marker(lx + 14, ly, s.color, true));
    const hollow = s.promotionsAfter && s.promotionsAfter.length < s.retrainsAfter!.length ? '; hollow: its challenger lost' : '';
    const label = s.retrainsAfter?.length ? `${s.name} (triangles: a retrain${hollow})` : s.name;
    parts.push(text(lx + 36, ly + 4, label, { size: 12 }));
  });

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">\n${parts.join('\n')}\n</svg>\n`;
}

/** A range with some air around the values, snapped to 0.05, within [0, 1]. */
function yRange(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.max(0, Math.floor((Math.min(...values) - 0.02) / 0.05) * 0.05);
  const hi = Math.min(1, Math.ceil((Math.max(...values) + 0.02) / 0.05) * 0.05);
  return hi > lo ? [lo, hi] : [Math.max(0, lo - 0.05), Math.min(1, hi + 0.05)];
}

function ticks(lo: number, hi: number): number[] {
  const step = hi - lo > 0.5 ? 0.1 : 0.05;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/** Segments of consecutive finite values; a single isolated value becomes a dot-sized segment. */
function linePath(values: Array<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  const d: string[] = [];
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      drawing = false;
      return;
    }
    d.push(`${drawing ? 'L' : 'M'}${f(x(i))},${f(y(v))}`);
    drawing = true;
  });
  return d.join(' ');
}

/** An upward triangle centred on (cx, cy). */
function marker(cx: number, cy: number, color: string, filled: boolean): string {
  const paint = filled ? `fill="${color}" stroke="white"` : `fill="white" stroke="${color}"`;
  return `<path d="M${f(cx)},${f(cy - 7)} L${f(cx + 6)},${f(cy + 4)} L${f(cx - 6)},${f(cy + 4)} Z" ${paint} stroke-width="${filled ? 1 : 1.5}"/>`;
}

function text(x: number, y: number, s: string, o: { size: number; anchor?: string; fill?: string; weight?: string }): string {
  return `<text x="${f(x)}" y="${f(y)}" font-size="${o.size}" font-family="sans-serif"${o.anchor ? ` text-anchor="${o.anchor}"` : ''}${o.fill ? ` fill="${o.fill}"` : ''}${o.weight ? ` font-weight="${o.weight}"` : ''}>${esc(s)}</text>`;
}

const f = (v: number) => String(Math.round(v * 10) / 10);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
