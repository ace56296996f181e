/**
 * What Perennial exports to Prometheus, read from the real registries (a model server's and a
 * worker's, instantiated here), and a check that PromQL expressions (the dashboard's queries, the
 * alerting rules) select only those series and labels. For test/deploy/dashboard.test.ts and
 * test/deploy/prometheus.test.ts.
 */
import type { MetricObject, Registry } from 'prom-client';
import { ServingMetrics } from '../../serving/metrics.ts';
import { MonitoringGauges } from '../../worker/metrics.ts';

/** Labels every scraped series has from its target. */
const TARGET_LABELS = ['job', 'instance'];

/** Each sample name exported (a histogram's `_bucket`, `_sum`, `_count`), with the labels it can carry. */
export function exportedSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>([['up', new Set(TARGET_LABELS)]]);
  const registries: Registry[] = [new ServingMetrics().registry, new MonitoringGauges().registry];
  for (const metric of registries.flatMap((registry) => registry.getMetricsAsArray())) {
    const { name, type } = metric as MetricObject & { type: string };
    const labels = [...((metric as { labelNames?: string[] }).labelNames ?? []), ...TARGET_LABELS];
    if (type === 'histogram') {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      for (const suffix of ['_sum', '_count']) series.set(`${name}${suffix}`, new Set(labels));
    } else series.set(name, new Set(labels));
  }
  return series;
}

export interface Selector {
  metric: string;
  labels: string[];
  /** The text between the braces. */
  matchers: string;
}

/**
 * The series an expression selects: each `name{matchers}`, and each bare name of Perennial's
 * (`perennial_...`, as in `label_values(perennial_deployment_info, model)`).
 */
export function selectorsIn(expr: string): Selector[] {
  const braced = [...expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)].map(([, metric, matchers]) => ({
    metric,
    labels: [...matchers.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]),
    matchers,
  }));
  const bare = [...expr.matchAll(/\b(perennial_\w+)\b(?!\s*\{)/g)].map(([, metric]) => ({ metric, labels: [], matchers: '' }));
  return [...braced, ...bare];
}

/** What an expression selects that nothing exports: unknown metrics, and labels a metric does not have. */
export function unexported(expr: string, exported = exportedSeries()): string[] {
  return selectorsIn(expr).flatMap(({ metric, labels }) => {
    const known = exported.get(metric);
    if (!known) return [`${metric}: no such metric`];
    return labels.filter((label) => !known.has(label)).map((label) => `${metric}: no label ${label}`);
  });
}

/** Every PromQL expression of a dashboard: panel targets (rows' too), annotations, query variables. */
export function dashboardExpressions(dashboard: unknown): Array<{ where: string; expr: string }> {
  const d = dashboard as {
    panels?: Array<{ title?: string; targets?: Array<{ expr?: string }>; panels?: unknown[] }>;
    annotations?: { list?: Array<{ name?: string; expr?: string }> };
    templating?: { list?: Array<{ name?: string; query?: string | { query?: string } }> };
  };
  const panels = (d.panels ?? []).flatMap((p) => [p, ...((p.panels ?? []) as typeof d.panels & object)]);
  return [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? '' }))),
    ...(d.annotations?.list ?? []).map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr ?? '' })),
    ...(d.templating?.list ?? []).map((v) => ({
      where: `variable ${v.name}`,
      expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? ''),
    })),
  ];
}
