/**
 * The Grafana dashboard "Perennial", as code (the Grafana Foundation SDK's typed builders). The
 * JSON that Grafana provisions, deploy/grafana/dashboards/perennial.json, is this file's output:
 *
 *     npx tsx deploy/grafana/dashboard.ts > deploy/grafana/dashboards/perennial.json
 *
 * and test/deploy/dashboard.test.ts fails while the two differ, or while a query names a metric
 * that neither the model server (serving/metrics.ts) nor the worker (worker/metrics.ts) exports.
 *
 * One model at a time (the `model` variable): its live and estimated quality from the worker's
 * monitoring cycles, its input drift per feature, its traffic and latency on the model servers,
 * the versions in service, and its retrains by outcome, which also mark the graphs.
 */
import { pathToFileURL } from 'node:url';
import {
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** The data source deploy/grafana/provisioning/datasources/prometheus.yaml provisions. */
const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' };
const MODEL = 'model="$model"';
/** The predict routes, /v1's and /v2's (perennial_request_total's `endpoint` is the route template): what a user waits for. */
const PREDICT_ENDPOINTS = 'endpoint=~".*/(predict|infer)"';

const query = (expr: string, legend: string) => new DataqueryBuilder().expr(expr).legendFormat(legend);
const legend = () => new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom);
/** Queries A, B, C... of a panel. */
const lettered = (targets: DataqueryBuilder[]) => targets.map((target, i) => target.refId(String.fromCharCode(65 + i)));

function lines(title: string, description: string, unit: string, targets: DataqueryBuilder[]) {
  const panel = new TimeseriesPanel().title(title).description(description).datasource(PROMETHEUS).unit(unit).min(0).legend(legend());
  for (const target of lettered(targets)) panel.withTarget(target);
  return panel.height(8).span(12);
}

/** Shares between 0 and 1. */
const shares = (title: string, description: string, targets: DataqueryBuilder[]) =>
  lines(title, description, 'percentunit', targets).max(1);

/** Series that are 1 or 0 over time (an alarm, a version in service), one band each, named by `mapping`. */
function states(title: string, description: string, target: DataqueryBuilder, mapping: ValueMapping) {
  return new StateTimelinePanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .withTarget(target.refId('A'))
    .mappings([mapping])
    .legend(legend())
    .height(8)
    .span(12);
}

const yesNo = (yes: { text: string; color: string }, no: { text: string; color: string }): ValueMapping => ({
  type: MappingType.ValueToText,
  options: { '1': { ...yes, index: 0 }, '0': { ...no, index: 1 } },
});
const ALARM = yesNo({ text: 'alarm', color: 'red' }, { text: 'quiet', color: 'green' });
const DRIFTED = yesNo({ text: 'drifted', color: 'orange' }, { text: 'stable', color: 'green' });
const IN_SERVICE = yesNo({ text: 'in service', color: 'blue' }, { text: 'out', color: 'transparent' });

function stat(title: string, description: string, target: DataqueryBuilder) {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .withTarget(target.refId('A').instant())
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .height(6);
}

export function perennialDashboard() {
  const dashboard = new DashboardBuilder('Perennial')
    .uid('perennial')
    .description('One model: live and estimated quality, input drift, traffic, versions in service and retrains.')
    .tags(['perennial'])
    .editable()
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .withVariable(
      new QueryVariableBuilder('model')
        .label('Model')
        .datasource(PROMETHEUS)
        .query({ query: 'label_values(perennial_deployment_info, model)', refId: 'models' })
        .definition('label_values(perennial_deployment_info, model)')
        .refresh(VariableRefresh.OnTimeRangeChanged),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Retrains')
        .datasource(PROMETHEUS)
        .enable(true)
        .iconColor('purple')
        .expr(`sum by (outcome) (increase(perennial_retrains_total{${MODEL}}[2m])) > 0`)
        .step('1m')
        .titleFormat('retrain {{outcome}}')
        .tagKeys('outcome'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('New champion')
        .datasource(PROMETHEUS)
        .enable(true)
        .iconColor('green')
        .expr(
          `max by (version) (perennial_deployment_info{${MODEL}, role="champion"}) unless max by (version) (perennial_deployment_info{${MODEL}, role="champion"} offset 2m)`,
        )
        .step('1m')
        .titleFormat('champion v{{version}}'),
    )

    .withRow(new RowBuilder('Quality (worker, each monitoring cycle)'))
    .withPanel(
      shares('Accuracy and F1: live and estimated', "The champion's scores on the latest feedback, and CBPE's label-free estimate", [
        query(`max(perennial_monitoring_accuracy{${MODEL}})`, 'accuracy'),
        query(`max(perennial_monitoring_f1_macro{${MODEL}})`, 'F1 (macro)'),
        query(`max(perennial_monitoring_estimated_accuracy{${MODEL}})`, 'estimated accuracy'),
      ]),
    )
    .withPanel(
      lines('RMSE (regression)', "A regression champion's RMSE on the latest feedback with true values", 'none', [
        query(`max(perennial_monitoring_rmse{${MODEL}})`, 'RMSE'),
      ]),
    )
    .withPanel(
      shares('Shadow against champion', "On the rows both answered: agreement, and each one's accuracy on those labelled", [
        query(`max(perennial_monitoring_shadow_agreement{${MODEL}})`, 'agreement'),
        query(`max(perennial_monitoring_shadow_accuracy{${MODEL}})`, 'shadow accuracy'),
        query(`max(perennial_monitoring_champion_accuracy_on_shadowed{${MODEL}})`, 'champion accuracy'),
      ]),
    )
    .withPanel(
      states(
        'Concept-drift detectors',
        "1 when a detector alarmed on the champion's error stream in the cycle",
        query(`max by (detector) (perennial_monitoring_detector_alarm{${MODEL}})`, '{{detector}}'),
        ALARM,
      ),
    )

    .withRow(new RowBuilder('Input drift and anomalies (worker, latest tested window)'))
    .withPanel(
      shares('Drifted share and anomaly rate', 'Share of features whose input drifted; share of rows with an input anomaly', [
        query(`max(perennial_monitoring_drifted_share{${MODEL}})`, 'drifted share'),
        query(`max(perennial_monitoring_anomaly_rate{${MODEL}})`, 'anomaly rate'),
      ]),
    )
    .withPanel(
      lines('Drift score per feature', "Each feature's test statistic (the test in brackets: KS D, chi-square, or a distance)", 'none', [
        query(`max by (feature, test) (perennial_monitoring_feature_drift_score{${MODEL}})`, '{{feature}} ({{test}})'),
      ]),
    )
    .withPanel(
      states(
        'Drifted features',
        '1 when the feature drifted in the latest tested window',
        query(`max by (feature) (perennial_monitoring_feature_drifted{${MODEL}})`, '{{feature}}'),
        DRIFTED,
      ),
    )
    .withPanel(
      lines(
        'Drift p-value per feature',
        'For the tests that give one (ks, chisquare): drift below the threshold, 0.05 by default',
        'none',
        [query(`max by (feature, test) (perennial_monitoring_feature_drift_p_value{${MODEL}})`, '{{feature}} ({{test}})')],
      ),
    )

    .withRow(new RowBuilder('Traffic (model servers)'))
    .withPanel(
      lines('Predictions per second', 'Rows committed to the log, by version and role', 'reqps', [
        query(`sum by (version, role) (rate(perennial_predictions_total{${MODEL}}[$__rate_interval]))`, 'v{{version}} {{role}}'),
      ]),
    )
    .withPanel(
      lines('Feedback per second', 'Feedback committed, by kind (label, accepted, overridden)', 'reqps', [
        query(`sum by (kind) (rate(perennial_feedback_total{${MODEL}}[$__rate_interval]))`, '{{kind}}'),
      ]),
    )
    .withPanel(
      lines('Predict latency', 'Receipt to response of predict requests, every replica', 's', [
        query(
          `histogram_quantile(0.5, sum by (le) (rate(perennial_request_duration_seconds_bucket{${MODEL}, ${PREDICT_ENDPOINTS}}[$__rate_interval])))`,
          'p50',
        ),
        query(
          `histogram_quantile(0.99, sum by (le) (rate(perennial_request_duration_seconds_bucket{${MODEL}, ${PREDICT_ENDPOINTS}}[$__rate_interval])))`,
          'p99',
        ),
      ]),
    )
    .withPanel(
      lines('Errors per second', 'Predict requests answered with a 4xx or 5xx status', 'reqps', [
        query(
          `sum by (http_response_code) (rate(perennial_request_total{${MODEL}, ${PREDICT_ENDPOINTS}, http_response_code=~"[45].."}[$__rate_interval]))`,
          '{{http_response_code}}',
        ),
      ]),
    )

    .withPanel(
      lines(
        'Deployment changes followed',
        'Changes another process made that each replica applied, or failed to (it kept the old)',
        'none',
        [query(`sum by (outcome) (increase(perennial_deployment_follow_total{${MODEL}}[$__rate_interval]))`, '{{outcome}}')],
      ),
    )
    .withPanel(
      lines('Log commit p99 (every model)', 'One group commit of the prediction and feedback log: what a response waits for', 's', [
        query(
          'histogram_quantile(0.99, sum by (le, log) (rate(perennial_log_commit_duration_seconds_bucket[$__rate_interval])))',
          '{{log}}',
        ),
      ]),
    )

    .withRow(new RowBuilder('Versions and retrains'))
    .withPanel(
      states(
        'Versions in service',
        'The champion, canary and shadow each model server serves',
        query(`max by (role, version) (perennial_deployment_info{${MODEL}})`, '{{role}} v{{version}}'),
        IN_SERVICE,
      ),
    )
    .withPanel(
      shares('Canary weight', "The canary's share of predict requests while it runs", [
        query(`max by (version) (perennial_deployment_canary_weight{${MODEL}})`, 'v{{version}}'),
      ]),
    )
    .withPanel(
      stat(
        'Retrains in the time range, by outcome',
        'promoted, rejected, not-better, failed-gate, invalid-data, rolled-back, rejected-in-shadow, failed',
        query(`sum by (outcome) (round(increase(perennial_retrains_total{${MODEL}}[$__range])))`, '{{outcome}}'),
      ).span(16),
    )
    .withPanel(
      stat(
        'Since the last monitoring cycle',
        'The PerennialMonitoringStale alert fires past an hour',
        query(`time() - max(perennial_monitoring_last_cycle_timestamp_seconds{${MODEL}})`, 'age'),
      )
        .unit('s')
        .span(8),
    )
    .build();
  // Rows and panels numbered in order: Grafana needs each panel's id unique, and the builders leave it to us.
  dashboard.panels?.forEach((panel, i) => (panel.id = i + 1));
  return dashboard;
}

export function dashboardJson(): string {
  return `${JSON.stringify(perennialDashboard(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(dashboardJson());
