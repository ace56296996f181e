/**
 * Where a worker serves metrics, from the environment. Both are off unless set, so that several
 * workers on one host (scaled out, or the chaos scenarios) never fight over a port:
 * - PERENNIAL_WORKER_METRICS=host:port: Perennial's monitoring gauges at /metrics (worker/metrics.ts);
 * - PERENNIAL_TEMPORAL_METRICS=host:port: Temporal Core's runtime metrics at /metrics (worker/telemetry.ts).
 */

export interface BindAddress {
  host: string;
  port: number;
}

/** A bind address that cannot work; the message names the variable. */
export class MetricsConfigError extends Error {
  override name = 'MetricsConfigError';
}

export function workerMetricsConfig(env = process.env): { perennial?: BindAddress; temporal?: BindAddress } {
  return {
    perennial: bindAddress('PERENNIAL_WORKER_METRICS', env),
    temporal: bindAddress('PERENNIAL_TEMPORAL_METRICS', env),
  };
}

/** `host:port` or `[ipv6]:port`; undefined when the variable is unset or empty. */
function bindAddress(variable: string, env: NodeJS.ProcessEnv): BindAddress | undefined {
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(raw);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new MetricsConfigError(
      `${variable}=${raw}: expected host:port to listen on, such as 127.0.0.1:9464 (unset it to turn these metrics off)`,
    );
  return { host: match[1] ?? match[2], port };
}

/** As Temporal Core wants it: `host:port`, brackets around an IPv6 host. */
export function formatBindAddress({ host, port }: BindAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
