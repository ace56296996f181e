/**
 * Perennial's Prometheus files on the real tools (Debian's prometheus package; test/run.ts
 * installs it): promtool checks the config and the alerting rules and runs the rules' unit tests,
 * and each check is shown to refuse a broken copy. Then a real Prometheus (stack/prometheus.ts)
 * scrapes a real model server and the worker's /metrics of a test stack every second, with the
 * rules loaded: after a monitoring cycle that saw feedback, /api/v1/query answers the model's
 * accuracy as the feedback says, the initial training shows as a promoted retrain, and every query
 * of the dashboard runs without error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { perennialDashboard } from '../../deploy/grafana/dashboard.ts';
import { weatherData } from '../../stack/demo.ts';
import { startPrometheus, type InstantSample } from '../../stack/prometheus.ts';
import { sampleSum, scrape } from '../helpers/prometheus.ts';
import { onTeardown, tempDir } from '../helpers/services.ts';
import { eventually, postToModel, seedRecords, startStack, testSpec } from '../helpers/stack.ts';
import { composeServices, read } from './deploy-files.ts';
import { dashboardExpressions, unexported } from './exported-metrics.ts';

const CONFIG = 'deploy/prometheus/prometheus.yml';
const RULES = 'deploy/prometheus/rules/perennial.yml';
const RULE_TESTS = 'test/deploy/alerts.promtool.yml';

function promtool(...args: string[]): { status: number; output: string } {
  const result = spawnSync('promtool', args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** A copy of the rules with one change, beside a copy of the rule tests that loads it. */
function brokenRules(from: string, to: string): { rules: string; tests: string } {
  const text = read(RULES);
  assert.ok(text.includes(from), `${RULES} no longer contains ${from}`);
  const dir = tempDir('perennial-rules-');
  const rules = join(dir, 'perennial.yml');
  writeFileSync(rules, text.replace(from, to));
  const tests = join(dir, 'alerts.promtool.yml');
  writeFileSync(tests, read(RULE_TESTS).replace('../../deploy/prometheus/rules/perennial.yml', 'perennial.yml'));
  return { rules, tests };
}

test('promtool check config: prometheus.yml is valid and the rule files it names are found and valid', () => {
  const { status, output } = promtool('check', 'config', CONFIG);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS: 1 rule files found/);
  assert.match(output, /SUCCESS: \d+ rules found/);
});

test('promtool check rules: the rules pass, and a broken expression is refused', () => {
  const { status, output } = promtool('check', 'rules', RULES);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS: 6 rules found/);
  const broken = promtool('check', 'rules', brokenRules('drifted_share) > 0.5', 'drifted_share) >> 0.5').rules);
  assert.equal(broken.status, 1);
  assert.match(broken.output, /parse error/);
});

test('promtool test rules: every alert fires when it should and not before; a wrong threshold fails them', () => {
  const { status, output } = promtool('test', 'rules', RULE_TESTS);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS/);
  const alerts = parse(read(RULES)).groups.flatMap((g: { rules: Array<{ alert: string }> }) => g.rules.map((r) => r.alert));
  for (const alert of alerts) assert.match(read(RULE_TESTS), new RegExp(`alertname: ${alert}\\n`), `${alert} is tested`);
  const wrong = promtool(
    'test',
    'rules',
    brokenRules('perennial_monitoring_accuracy) < 0.7', 'perennial_monitoring_accuracy) < 0.5').tests,
  );
  assert.equal(wrong.status, 1);
  assert.match(wrong.output, /alertname: PerennialAccuracyBelowFloor/);
});

test('the rules select only exported metrics, and compose mounts the rule files where prometheus.yml names them', () => {
  for (const group of parse(read(RULES)).groups as Array<{ rules: Array<{ alert: string; expr: string }> }>)
    for (const rule of group.rules) assert.deepEqual(unexported(rule.expr), [], rule.alert);
  // Inside the container the config is /etc/prometheus/prometheus.yml, and its rule_files are relative to it.
  const volumes = (composeServices().prometheus as { volumes: string[] }).volumes.map((v) => v.split(':'));
  const mounted = (path: string) => {
    const volume = volumes.find(([, inside]) => path === inside || path.startsWith(`${inside}/`));
    return volume && join(PROJECT_ROOT, 'deploy', volume[0], path.slice(volume[1].length));
  };
  assert.equal(mounted('/etc/prometheus/prometheus.yml'), join(PROJECT_ROOT, CONFIG));
  const ruleFiles = parse(read(CONFIG)).rule_files as string[];
  assert.ok(ruleFiles.length > 0);
  for (const file of ruleFiles) {
    const host = mounted(posix.join('/etc/prometheus', file));
    assert.ok(host && existsSync(host), `${file}: not mounted into the container`);
    assert.equal(readFileSync(host, 'utf8'), read(RULES));
  }
});

test('a real Prometheus scrapes a model server and a worker: the accuracy of a cycle with feedback, retrains, and the dashboard queries', async (t) => {
  const started = Date.now();
  const stack = await startStack({ workerMetrics: { host: '127.0.0.1', port: 0 } });
  const prometheus = await startPrometheus({
    dataDir: tempDir('perennial-prometheus-'),
    targets: [
      { job: 'perennial-model-server', url: `${stack.servingUrl}/metrics` },
      { job: 'perennial-worker', url: stack.workerMetricsUrl! },
    ],
    scrapeInterval: '1s',
    ruleFiles: [join(PROJECT_ROOT, RULES)],
  });
  onTeardown(() => prometheus.stop());
  const value = (samples: InstantSample[]) => (samples.length === 1 ? samples[0].value : undefined);
  // Both targets scraped before the model exists, so the retrain's series are seen from 0.
  for (const job of ['perennial-model-server', 'perennial-worker'])
    assert.equal(await eventually(`${job} scraped`, async () => value(await prometheus.query(`up{job="${job}"}`)), 30_000), 1);

  const spec = testSpec({ monitoring: { interval: '1s', drift: { minRows: 50 } } });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
  const model = `model="${spec.name}"`;
  // The dashboard's Retrains annotation marks the initial training: its series rose from 0 to 1.
  const retrains = dashboardExpressions(perennialDashboard()).find((e) => e.where === 'annotation "Retrains"')!;
  const marked = await eventually(
    'the Retrains annotation',
    async () => {
      const samples = await prometheus.query(retrains.expr.replaceAll('$model', spec.name));
      return samples.length ? samples : undefined;
    },
    30_000,
  );
  assert.deepEqual(
    marked.map((s) => s.labels.outcome),
    ['promoted'],
  );
  assert.equal(value(await prometheus.query(`perennial_retrains_total{${model}, outcome="promoted"}`)), 1);

  // 120 rows of New York's climate (input drift against Seattle's), 40 of them labelled in one request.
  const newYork = weatherData()
    .traffic.filter((r) => r.location === 'New York')
    .slice(0, 120);
  const rows = newYork.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  const { predictions } = (await postToModel(stack, spec.name, 'predict', { rows })) as {
    predictions: Array<{ id: string; label: string }>;
  };
  const labelled = predictions.slice(0, 40).map((p, i) => ({ predictionId: p.id, label: String(newYork[i].weather) }));
  await postToModel(stack, spec.name, 'feedback', { feedback: labelled });
  const accuracy = labelled.filter((f, i) => predictions[i].label === f.label).length / 40;

  const queried = await eventually('the accuracy of the cycle that saw the feedback, in Prometheus', async () =>
    value(await prometheus.query(`perennial_monitoring_accuracy{${model}, job="perennial-worker"}`)),
  );
  assert.ok(Math.abs(queried - accuracy) < 1e-9, `Prometheus has ${queried}, the feedback says ${accuracy}`);
  const onWorker = sampleSum(await scrape(stack.workerMetricsUrl!), 'perennial_monitoring_accuracy', { model: spec.name });
  assert.equal(queried, onWorker, "Prometheus has the worker's value");

  assert.equal(value(await prometheus.query(`perennial_deployment_info{${model}, role="champion", version="1"}`)), 1);
  const features = await eventually('per-feature drift scores', async () => {
    const samples = await prometheus.query(`perennial_monitoring_feature_drift_score{${model}}`);
    return samples.length ? samples : undefined;
  });
  assert.deepEqual(features.map((s) => s.labels.feature).sort(), spec.features.map((f) => f.name).sort());

  // Every query of the dashboard is PromQL that Prometheus runs; those of what happened here answer.
  const answered = new Map<string, number>();
  for (const { where, expr } of dashboardExpressions(perennialDashboard())) {
    if (where.startsWith('variable')) continue; // label_values() is Grafana's, not PromQL
    const promql = expr.replaceAll('$model', spec.name).replaceAll('$__rate_interval', '1m').replaceAll('$__range', '10m');
    const samples = await prometheus.query(promql); // throws with Prometheus' error on bad PromQL
    answered.set(`${where}: ${expr}`, samples.length);
  }
  for (const title of ['Accuracy and F1', 'Drift score per feature', 'Predictions per second', 'Predict latency', 'Versions in service'])
    assert.ok(
      [...answered].some(([where, n]) => where.includes(title) && n > 0),
      `${title} shows data`,
    );

  // The alerting rules evaluate on these series without error.
  const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
    data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
  };
  const loaded = rules.data.groups.flatMap((g) => g.rules);
  assert.equal(loaded.length, 6);
  await eventually('every rule evaluated', async () => {
    const again = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as typeof rules;
    const health = again.data.groups.flatMap((g) => g.rules.map((r) => `${r.name}: ${r.health}${r.lastError ? ` ${r.lastError}` : ''}`));
    return health.every((h) => h.endsWith(': ok')) ? true : undefined;
  });
  t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s, ${answered.size} dashboard queries run`);
});
