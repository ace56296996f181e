/**
 * A real Prometheus server as a child process, scraping /metrics endpoints named by URL (the
 * model server's, the worker's), with Perennial's alerting rules loaded if asked: for trying the
 * dashboard's queries and the alerts on a local stack, and for the tests. The binary is Debian's
 * `prometheus` (stack/debian-packages.ts installs it for the tests).
 *
 * Started like the other services (stack/services.ts): detached in its own process group, a pid
 * file in its data folder so that a start after a hard kill stops the orphan, stopped with
 * SIGTERM and then SIGKILL to the whole group.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, ServiceExitedError, spawnServer, stopper, waitFor, whenReady, type Service } from './services.ts';

/** One scrape job: a /metrics endpoint by its full URL. */
export interface ScrapeTarget {
  job: string;
  url: string;
}

export interface PrometheusOptions {
  /** Holds the generated config, the TSDB, the log and the pid file. */
  dataDir: string;
  targets: ScrapeTarget[];
  /** A Prometheus duration; 15s by default, as in deploy/prometheus/prometheus.yml. */
  scrapeInterval?: string;
  /** Rule files (absolute paths) to load and evaluate at the scrape interval. */
  ruleFiles?: string[];
  port?: number;
  /** The binary; `prometheus` on PATH by default. */
  command?: string;
  log?: (line: string) => void;
}

/** A bad target or job list, refused before anything starts. */
export class PrometheusConfigError extends Error {
  override name = 'PrometheusConfigError';
}

/** prometheus.yml for `options`: one job per target, static. */
export function prometheusConfig(options: Pick<PrometheusOptions, 'targets' | 'scrapeInterval' | 'ruleFiles'>): string {
  const interval = options.scrapeInterval ?? '15s';
  const jobs = new Set<string>();
  const scrapeConfigs = options.targets.map(({ job, url }, i) => {
    if (!/^[a-zA-Z_][\w-]*$/.test(job)) throw new PrometheusConfigError(`targets[${i}].job: "${job}" is not a job name`);
    if (jobs.has(job)) throw new PrometheusConfigError(`targets[${i}].job: "${job}" is named twice`);
    jobs.add(job);
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
      throw new PrometheusConfigError(`targets[${i}].url: "${url}" is not an http(s) URL`);
    return {
      job_name: job,
      scheme: parsed.protocol.slice(0, -1),
      metrics_path: parsed.pathname,
      static_configs: [{ targets: [parsed.host] }],
    };
  });
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    ...(options.ruleFiles?.length ? { rule_files: options.ruleFiles } : {}),
    scrape_configs: scrapeConfigs,
  });
}

export interface PrometheusServer extends Service {
  /** An instant query's samples (`/api/v1/query`); an error answer throws with Prometheus' message. */
  query(expr: string): Promise<InstantSample[]>;
}

export interface InstantSample {
  labels: Record<string, string>;
  value: number;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const configFile = join(options.dataDir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options));
  const port = options.port ?? (await freePort());
  const what = 'Prometheus';
  const { child, pidFile } = await spawnServer(what, {
    dataDir: options.dataDir,
    pidName: 'prometheus',
    ports: [port],
    command: options.command ?? 'prometheus',
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    marker: configFile,
    log: options.log,
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, pidFile);
  await whenReady(child, pidFile, async () => {
    try {
      await waitFor(what, child, async () => (await fetch(`${url}/-/ready`)).ok, 60_000);
    } catch (err) {
      // A refused config ends the process at once: its log's last lines say why.
      if (!(err instanceof ServiceExitedError)) throw err;
      const log = readFileSync(join(options.dataDir, 'prometheus.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new ServiceExitedError(`${err.message}:\n${log}`);
    }
  });
  return { name: 'prometheus', url, stop, query: (expr) => queryPrometheus(url, expr) };
}

/** An instant query against the Prometheus at `url`; samples of a vector, or the one of a scalar. */
export async function queryPrometheus(url: string, expr: string): Promise<InstantSample[]> {
  const response = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const answer = (await response.json()) as {
    status: 'success' | 'error';
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (answer.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${answer.error ?? response.statusText}`);
  const { resultType, result } = answer.data!;
  if (resultType === 'scalar') return [{ labels: {}, value: Number((result as [number, string])[1]) }];
  if (resultType !== 'vector') throw new Error(`${expr}: expected an instant vector, got a ${resultType}`);
  return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => ({
    labels: s.metric,
    value: Number(s.value[1]),
  }));
}
