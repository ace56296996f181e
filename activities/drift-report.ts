/**
 * The drift report people open from the MLflow UI (monitoring/cycle-N/drift.html of the champion's
 * monitoring run): a table of every feature's test, statistic and verdict, and per feature the
 * reference (training) and current distributions side by side as bars. Self-contained HTML with
 * inline SVG, no scripts.
 */
import type { FeatureDriftSummary, MonitoringSummary } from '../core/monitoring.ts';

type Histogram =
  { edges: number[]; reference: number[]; current: number[] } | { categories: string[]; reference: number[]; current: number[] };

export type ReportedFeature = FeatureDriftSummary & { histogram?: Histogram };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const num = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(3));

function bars(h: Histogram): string {
  const W = 420,
    H = 120,
    pad = 20;
  const n = h.reference.length;
  const top = Math.max(...h.reference, ...h.current, 1e-9);
  const slot = (W - 2 * pad) / n;
  const y = (v: number) => H - pad - (H - 2 * pad) * (v / top);
  const rect = (v: number, i: number, dx: number, fill: string) =>
    `<rect x="${(pad + i * slot + dx).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(1, slot / 2 - 1).toFixed(1)}" height="${(H - pad - y(v)).toFixed(1)}" fill="${fill}"/>`;
  const labels =
    'edges' in h
      ? [
          `<text x="${pad}" y="${H - 4}" font-size="10">${num(h.edges[0])}</text>`,
          `<text x="${W - pad}" y="${H - 4}" font-size="10" text-anchor="end">${num(h.edges[n])}</text>`,
        ]
      : h.categories.map(
          (c, i) =>
            `<text x="${(pad + (i + 0.5) * slot).toFixed(1)}" y="${H - 4}" font-size="9" text-anchor="middle">${esc(c.slice(0, 8))}</text>`,
        );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
${h.reference.map((v, i) => rect(v, i, 0, '#9aa5b1')).join('')}
${h.current.map((v, i) => rect(v, i, slot / 2, '#d62728')).join('')}
<line x1="${pad}" x2="${W - pad}" y1="${H - pad}" y2="${H - pad}" stroke="#333"/>
${labels.join('')}
</svg>`;
}

export function driftReportHtml(model: string, summary: MonitoringSummary, features: ReportedFeature[]): string {
  const rows = features
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drift' : ''}"><td>${esc(f.name)}</td><td>${esc(f.test)}</td><td>${num(f.statistic)}</td><td>${f.pValue === undefined ? '' : num(f.pValue)}</td><td>${num(f.threshold)}</td><td>${f.drifted ? 'drift' : 'ok'}</td></tr>`,
    )
    .join('\n');
  const charts = features
    .filter((f) => f.histogram)
    .map(
      (f) =>
        `<figure><figcaption>${esc(f.name)}: ${f.drifted ? '<b>drift</b>' : 'no drift'} (${esc(f.test)} ${num(f.pValue ?? f.statistic)})</figcaption>${bars(f.histogram!)}</figure>`,
    )
    .join('\n');
  const anomalies = Object.entries(summary.anomalies.features)
    .map(
      ([name, a]) =>
        `<li>${esc(name)}: ${a.missing} missing, ${a.wrongType} wrong type, ${a.outOfRange} out of range, ${a.unseenCategory} unseen categories<br><small>${a.examples.map(esc).join('; ')}</small></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(model)} drift report, cycle ${summary.cycle}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.drift{background:#fde2e2}figure{display:inline-block;margin:1em}.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}</style></head>
<body>
<h1>${esc(model)} v${esc(summary.championVersion)}: monitoring cycle ${summary.cycle}</h1>
<p>${summary.at}: ${summary.drift.rows} predictions tested, ${summary.drift.drifted.length} of ${summary.drift.features.length} features drifted${summary.drift.skipped.length ? `, ${summary.drift.skipped.length} skipped` : ''}; anomaly rate ${summary.anomalies.anomalyRate === null ? 'n/a' : num(summary.anomalies.anomalyRate)}.</p>
<table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th>verdict</th></tr>
${rows}
</table>
<p class="key"><span style="background:#9aa5b1"></span>reference (training)<span style="background:#d62728"></span>current window</p>
${charts}
${anomalies ? `<h2>Input anomalies</h2><ul>${anomalies}</ul>` : ''}
</body></html>
`;
}
