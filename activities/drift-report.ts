/**
 * The drift report people open from the MLflow UI (monitoring/cycle-N/drift.html of the champion's
 * monitoring run): a table of every feature's test, statistic and verdict, and per feature the
 * reference (training) and current distributions side by side as bars. Self-contained HTML with
 * inline SVG, no scripts; each chart's Vega-Lite spec is saved beside it (charts/).
 */
import type { TopLevelSpec } from 'vega-lite';
import { driftHistogramChart } from '../adapters/charts/drift-histogram.ts';
import { renderChart } from '../adapters/charts/render.ts';
import type { CategoryHistogram, NumericHistogram } from '../core/drift/data-drift.ts';
import type { FeatureDriftSummary, MonitoringSummary } from '../core/monitoring.ts';

export type ReportedFeature = FeatureDriftSummary & { histogram?: NumericHistogram | CategoryHistogram };

export interface DriftReport {
  html: string;
  /** Each histogram's Vega-Lite spec, under a file name to save it by next to the report. */
  charts: Array<{ file: string; spec: TopLevelSpec }>;
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const num = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(3));
// Feature names are any text; an artifact path segment may not be "." or "..", nor hold "/" or "#".
// The position keeps two names that read alike apart.
const chartFile = (position: number, name: string) =>
  `charts/${String(position + 1).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60)}.vl.json`;

export async function driftReport(model: string, summary: MonitoringSummary, features: ReportedFeature[]): Promise<DriftReport> {
  const rows = features
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drift' : ''}"><td>${esc(f.name)}</td><td>${esc(f.test)}</td><td>${num(f.statistic)}</td><td>${f.pValue === undefined ? '' : num(f.pValue)}</td><td>${num(f.threshold)}</td><td>${f.drifted ? 'drift' : 'ok'}</td></tr>`,
    )
    .join('\n');
  const charted = await Promise.all(
    features
      .filter((f) => f.histogram)
      .map(async (f, i) => ({
        file: chartFile(i, f.name),
        ...(await renderChart(
          driftHistogramChart({
            feature: f.name,
            title: `${f.name}: ${f.drifted ? 'drift' : 'no drift'} (${f.test} ${f.pValue === undefined ? '' : 'p = '}${num(f.pValue ?? f.statistic)})`,
            histogram: f.histogram!,
          }),
        )),
      })),
  );
  const anomalies = Object.entries(summary.anomalies.features)
    .map(
      ([name, a]) =>
        `<li>${esc(name)}: ${a.missing} missing, ${a.wrongType} wrong type, ${a.outOfRange} out of range, ${a.unseenCategory} unseen categories<br><small>${a.examples.map(esc).join('; ')}</small></li>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(model)} drift report, cycle ${summary.cycle}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.drift{background:#fde2e2}figure{display:inline-block;vertical-align:top;margin:1em}</style></head>
<body>
<h1>${esc(model)} v${esc(summary.championVersion)}: monitoring cycle ${summary.cycle}</h1>
<p>${summary.at}: ${summary.drift.rows} predictions tested, ${summary.drift.drifted.length} of ${summary.drift.features.length} features drifted${summary.drift.skipped.length ? `, ${summary.drift.skipped.length} skipped` : ''}; anomaly rate ${summary.anomalies.anomalyRate === null ? 'n/a' : num(summary.anomalies.anomalyRate)}.</p>
<table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th>verdict</th></tr>
${rows}
</table>
${charted.map((c) => `<figure>${c.svg}</figure>`).join('\n')}
${anomalies ? `<h2>Input anomalies</h2><ul>${anomalies}</ul>` : ''}
</body></html>
`;
  return { html, charts: charted.map(({ file, spec }) => ({ file, spec })) };
}
