/**
 * The Grafana dashboard as code: the committed JSON is what deploy/grafana/dashboard.ts builds,
 * byte for byte, and every query in it (panels, annotations, the model variable) selects only
 * metrics and labels that the model server and the worker export, as their registries say. That
 * the queries are valid PromQL and return data is test/deploy/prometheus.test.ts's, on a real
 * Prometheus. Grafana itself is not installable here: no test renders the dashboard.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardJson, perennialDashboard } from '../../deploy/grafana/dashboard.ts';
import { read } from './deploy-files.ts';
import { dashboardExpressions, exportedSeries, selectorsIn, unexported } from './exported-metrics.ts';

const COMMAND = 'npx tsx deploy/grafana/dashboard.ts > deploy/grafana/dashboards/perennial.json';

test('the committed dashboard JSON is what deploy/grafana/dashboard.ts builds', () => {
  assert.ok(read('deploy/grafana/dashboards/perennial.json') === dashboardJson(), `stale: run ${COMMAND}`);
});

test('every query of the dashboard selects only metrics and labels the model server and the worker export', () => {
  const exported = exportedSeries();
  // The registries were read, not a list: the new families of both processes are there.
  for (const name of ['perennial_request_duration_seconds_bucket', 'perennial_deployment_info', 'perennial_retrains_total'])
    assert.ok(exported.has(name), name);
  assert.ok(exported.get('perennial_monitoring_feature_drift_score')!.has('feature'));

  const expressions = dashboardExpressions(perennialDashboard());
  assert.ok(expressions.length >= 25, `${expressions.length} expressions`);
  for (const { where, expr } of expressions) {
    assert.ok(selectorsIn(expr).length > 0, `${where}: selects nothing: ${expr}`);
    assert.deepEqual(unexported(expr, exported), [], `${where}: ${expr}`);
    // The dashboard shows the chosen model: every series that has a model is filtered to it.
    if (where.startsWith('variable')) continue;
    for (const { metric, matchers } of selectorsIn(expr))
      if (exported.get(metric)!.has('model')) assert.match(matchers, /\bmodel="\$model"/, `${where}: ${metric} of every model`);
  }
  // Everything the brief of the dashboard names is on it.
  const all = expressions.map((e) => e.expr).join('\n');
  for (const metric of [
    'perennial_monitoring_accuracy',
    'perennial_monitoring_f1_macro',
    'perennial_monitoring_rmse',
    'perennial_monitoring_estimated_accuracy',
    'perennial_monitoring_drifted_share',
    'perennial_monitoring_feature_drift_score',
    'perennial_monitoring_anomaly_rate',
    'perennial_monitoring_detector_alarm',
    'perennial_predictions_total',
    'perennial_feedback_total',
    'perennial_request_duration_seconds_bucket',
    'perennial_deployment_info',
    'perennial_retrains_total',
  ])
    assert.ok(all.includes(metric), `the dashboard shows ${metric}`);
});

test('the check catches a query on a metric or a label that nothing exports', () => {
  assert.deepEqual(unexported('max(perennial_monitoring_acuracy{model="$model"})'), ['perennial_monitoring_acuracy: no such metric']);
  assert.deepEqual(unexported('sum(rate(perennial_feedback_total{model="$model", role="canary"}[5m]))'), [
    'perennial_feedback_total: no label role',
  ]);
  assert.deepEqual(unexported('label_values(perennial_deployment_infos, model)'), ['perennial_deployment_infos: no such metric']);
  // A histogram is selected by its samples' names, with `le` on its buckets only.
  assert.deepEqual(unexported('perennial_request_duration_seconds{le="1"}'), ['perennial_request_duration_seconds: no such metric']);
  assert.deepEqual(unexported('perennial_request_duration_seconds_count{le="1"}'), [
    'perennial_request_duration_seconds_count: no label le',
  ]);
});
