/**
 * Load from autocannon (programmatic, in this process): closed-loop runs at a number of
 * connections, or a fixed overall rate. Latencies are taken from each response (autocannon's own
 * histogram keeps whole milliseconds), and any answer but a 200 fails the benchmark.
 */
import { createRequire } from 'node:module';
import { quantile } from '../shared/stack.ts';

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (options: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

// autocannon ships no types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const MAX_DISTINCT_BODIES = 16;

export interface LoadOptions {
  url: string;
  /** Request bodies, sent in turn. */
  bodies: string[];
  connections: number;
  seconds: number;
  /** Requests per second over all connections; none: as fast as the server answers. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** autocannon's p99: whole milliseconds, corrected for coordinated omission at a fixed rate. */
  autocannonP99Ms: number;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate ? { overallRate: options.rate } : {}),
        // Each connection cycles through these, encoded once (a per-request setupRequest would
        // make autocannon the bottleneck).
        requests: options.bodies.slice(0, MAX_DISTINCT_BODIES).map((body) => ({
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })),
      },
      (err, result) => {
        if (err) return reject(err);
        const failed = result.errors + result.timeouts + result.non2xx;
        if (failed)
          return reject(
            new Error(
              `${options.url}: ${failed} failed requests (${result.non2xx} not 2xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
            ),
          );
        latencies.sort((a, b) => a - b);
        resolve({
          requests: latencies.length,
          perSecond: latencies.length / result.duration,
          p50Ms: quantile(latencies, 0.5),
          p99Ms: quantile(latencies, 0.99),
          maxMs: latencies[latencies.length - 1],
          autocannonP99Ms: result.latency.p99,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}
