/**
 * The "RSS flat over a 5-minute run": one Perennial server under a sustained 1,000
 * single-row requests/s for PERENNIAL_BENCH_SOAK_SECONDS, its RSS sampled every 10 s. Flat means
 * the least-squares slope of RSS over time is near zero once the first minute has warmed up the
 * heap, page cache and JIT; the slope over all samples is reported too.
 */
import type { LoadResult } from './load.ts';
import { runLoad } from './load.ts';
import { rssMb, startNodeServer } from './processes.ts';
import { MODEL } from './weather.ts';

const SAMPLE_EVERY_SECONDS = 10;

export interface SoakResult {
  seconds: number;
  rate: number;
  load: LoadResult;
  rssMb: { first: number; last: number; max: number; samples: Array<{ atSeconds: number; mb: number }> };
  /** Least-squares slope of RSS, MB per minute: over every sample, and after the first minute. */
  slopeMbPerMin: { all: number; afterFirstMinute: number };
}

export async function soak(dir: string, bodies: string[], seconds: number, rate: number, connections: number): Promise<SoakResult> {
  const server = await startNodeServer('perennial-server.ts', { BENCH_DIR: dir });
  try {
    const pid = server.child.pid!;
    const started = performance.now();
    const samples = [{ atSeconds: 0, mb: rssMb(pid) }];
    const sampler = setInterval(
      () => samples.push({ atSeconds: (performance.now() - started) / 1000, mb: rssMb(pid) }),
      SAMPLE_EVERY_SECONDS * 1000,
    );
    const load = await runLoad({ url: `${server.url}/v1/models/${MODEL}/predict`, bodies, connections, seconds, rate }).finally(() =>
      clearInterval(sampler),
    );
    samples.push({ atSeconds: (performance.now() - started) / 1000, mb: rssMb(pid) });
    const mbs = samples.map((s) => s.mb);
    const result: SoakResult = {
      seconds,
      rate,
      load,
      rssMb: { first: mbs[0], last: mbs[mbs.length - 1], max: Math.max(...mbs), samples },
      slopeMbPerMin: { all: slopePerMinute(samples), afterFirstMinute: slopePerMinute(samples.filter((s) => s.atSeconds >= 60)) },
    };
    console.log(
      `  soak: ${seconds} s at ${rate}/s, p99 ${load.p99Ms.toFixed(2)} ms; RSS (MB) first ${result.rssMb.first.toFixed(0)}, last ${result.rssMb.last.toFixed(0)}, max ${result.rssMb.max.toFixed(0)}; slope ${result.slopeMbPerMin.all.toFixed(2)} MB/min (${result.slopeMbPerMin.afterFirstMinute.toFixed(2)} after the first minute)`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

/** The least-squares slope of mb over atSeconds, per minute; NaN with fewer than two samples. */
function slopePerMinute(samples: Array<{ atSeconds: number; mb: number }>): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = samples.reduce((a, s) => a + s.atSeconds, 0) / n;
  const meanY = samples.reduce((a, s) => a + s.mb, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.atSeconds - meanX) * (s.mb - meanY);
    variance += (s.atSeconds - meanX) ** 2;
  }
  return (covariance / variance) * 60;
}
