/**
 * The model server against two anchors measured in the same run, each server in its own process
 * on loopback, load from autocannon in this one:
 *   bare      a bare Fastify route that parses the body and answers a fixed prediction: the
 *             ceiling of the stack the model server is built on;
 *   mlflow    `mlflow models serve` (uvicorn, one worker, from .venv) serving scikit-learn's MLP
 *             trained on the same weather rows.
 * Scenarios: one row per request at 16 connections; a fixed 1,000 requests/s (latency, and the
 * model server's RSS over it); 100 rows per request at 16 connections.
 * Targets (issue 11): single-row >= 0.5 of bare; p99 <= 5 ms at 1,000 requests/s; 100-row
 * rows/s >= 10x mlflow. Seconds per run: PERENNIAL_BENCH_SECONDS (10), the fixed-rate run
 * PERENNIAL_BENCH_FIXED_RATE_SECONDS (60). PERENNIAL_BENCH_SOAK_SECONDS=300 adds the issue's
 * 5-minute RSS check (soak.ts) on a fresh server, written under `soak`.
 * PERENNIAL_BENCH_CPU_PROF=<folder> writes a --cpu-prof profile of each Node server there.
 * Needs nothing running: it starts its own servers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { weatherData, WEATHER_CSV } from '../../stack/demo.ts';
import { ensurePythonEnv } from '../../stack/services.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { runLoad, type LoadResult } from './load.ts';
import { soak } from './soak.ts';
import { rssMb, startMlflowServe, startNodeServer, type Served } from './processes.ts';
import { FEATURES, MODEL, TOKEN } from './weather.ts';

const CONNECTIONS = 16;
const BATCH_ROWS = 100;
const RATE = 1000;
const SECONDS = Number(process.env.PERENNIAL_BENCH_SECONDS ?? 10);
const FIXED_RATE_SECONDS = Number(process.env.PERENNIAL_BENCH_FIXED_RATE_SECONDS ?? 60);
const SOAK_SECONDS = Number(process.env.PERENNIAL_BENCH_SOAK_SECONDS ?? 0);
const WARMUP_SECONDS = 2;

type Row = Record<string, number>;

/** How each server takes the same rows: Perennial and the bare route {"rows": [...]}, mlflow a pandas split frame. */
const bodyFor = {
  rows: (rows: Row[]) => JSON.stringify({ rows }),
  mlflow: (rows: Row[]) => JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows.map((r) => FEATURES.map((f) => r[f])) } }),
};

function bodies(rows: Row[], perRequest: number, format: keyof typeof bodyFor): string[] {
  const out: string[] = [];
  for (let i = 0; i + perRequest <= rows.length && out.length < 200; i += perRequest)
    out.push(bodyFor[format](rows.slice(i, i + perRequest)));
  return out;
}

async function measure(name: string, url: string, rowBodies: string[], options: { seconds: number; rate?: number }): Promise<LoadResult> {
  await runLoad({ url, bodies: rowBodies, connections: CONNECTIONS, seconds: WARMUP_SECONDS, rate: options.rate });
  const result = await runLoad({ url, bodies: rowBodies, connections: CONNECTIONS, ...options });
  console.log(
    `  ${name.padEnd(28)} ${result.perSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  (${result.requests} requests)`,
  );
  return result;
}

export async function serving() {
  ensurePythonEnv();
  const dir = mkdtempSync(join(tmpdir(), 'perennial-bench-serving-'));
  const rows: Row[] = weatherData().seed.map((r) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])])));
  const single = { rows: bodies(rows, 1, 'rows'), mlflow: bodies(rows, 1, 'mlflow') };
  const batch = { rows: bodies(rows, BATCH_ROWS, 'rows'), mlflow: bodies(rows, BATCH_ROWS, 'mlflow') };
  const started: Served[] = [];
  try {
    console.log(`${CONNECTIONS} connections on loopback; ${SECONDS} s per run, ${FIXED_RATE_SECONDS} s at ${RATE} requests/s`);

    const bare = await startNodeServer('bare-server.ts');
    started.push(bare);
    const bareSingle = await measure('bare: 1 row', `${bare.url}/predict`, single.rows, { seconds: SECONDS });
    // The p99 floor at the fixed rate: the same load generator and machine, no model server work.
    const bareFixed = await measure(`bare: ${RATE}/s`, `${bare.url}/predict`, single.rows, { seconds: SECONDS, rate: RATE });
    const bareBatch = await measure(`bare: ${BATCH_ROWS} rows`, `${bare.url}/predict`, batch.rows, { seconds: SECONDS });
    await bare.stop();

    const perennial = await startNodeServer('perennial-server.ts', { BENCH_DIR: dir });
    started.push(perennial);
    const predictUrl = `${perennial.url}/v1/models/${MODEL}/predict`;
    const rss: number[] = [rssMb(perennial.child.pid!)];
    const sampler = setInterval(() => rss.push(rssMb(perennial.child.pid!)), 1000);
    const rssAfter = { start: rss[0], singleRow: 0, fixedRate: 0, batch: 0 };
    const perennialSingle = await measure('perennial: 1 row', predictUrl, single.rows, { seconds: SECONDS });
    rssAfter.singleRow = rssMb(perennial.child.pid!);
    const perennialFixed = await measure(`perennial: ${RATE}/s`, predictUrl, single.rows, { seconds: FIXED_RATE_SECONDS, rate: RATE });
    rssAfter.fixedRate = rssMb(perennial.child.pid!);
    const perennialBatch = await measure(`perennial: ${BATCH_ROWS} rows`, predictUrl, batch.rows, { seconds: SECONDS });
    rssAfter.batch = rssMb(perennial.child.pid!);
    clearInterval(sampler);
    const batching = await fetch(`${perennial.url}/admin/batching`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) =>
      r.json(),
    );
    await perennial.stop();
    const soaked = SOAK_SECONDS > 0 ? await soak(dir, single.rows, SOAK_SECONDS, RATE, CONNECTIONS) : undefined;

    const mlflow = await startMlflowServe(dir, WEATHER_CSV);
    started.push(mlflow);
    const invocations = `${mlflow.url}/invocations`;
    const mlflowSingle = await measure('mlflow serve: 1 row', invocations, single.mlflow, { seconds: SECONDS });
    const mlflowFixed = await measure(`mlflow serve: ${RATE}/s`, invocations, single.mlflow, { seconds: SECONDS, rate: RATE });
    const mlflowBatch = await measure(`mlflow serve: ${BATCH_ROWS} rows`, invocations, batch.mlflow, { seconds: SECONDS });
    await mlflow.stop();

    const ratios = {
      singleRowVsBare: perennialSingle.perSecond / bareSingle.perSecond,
      batchRowsVsMlflow: perennialBatch.perSecond / mlflowBatch.perSecond,
      singleRowVsMlflow: perennialSingle.perSecond / mlflowSingle.perSecond,
      batchVsBare: perennialBatch.perSecond / bareBatch.perSecond,
    };
    const rssSummary = { startMb: rss[0], endMb: rss[rss.length - 1], maxMb: Math.max(...rss), samples: rss.length, afterMb: rssAfter };
    const targets = {
      singleRowVsBare: { target: '>= 0.5', met: ratios.singleRowVsBare >= 0.5 },
      fixedRate1000P99Ms: { target: '<= 5', met: perennialFixed.p99Ms <= 5 },
      batchRowsVsMlflow: { target: '>= 10', met: ratios.batchRowsVsMlflow >= 10 },
    };
    console.log(
      `  ratios: single-row vs bare ${ratios.singleRowVsBare.toFixed(2)} (target >= 0.5), ${BATCH_ROWS}-row rows/s vs mlflow ${ratios.batchRowsVsMlflow.toFixed(1)}x (>= 10), p99 at ${RATE}/s ${perennialFixed.p99Ms.toFixed(2)} ms (<= 5)`,
    );
    console.log(
      `  perennial RSS (MB): start ${rssAfter.start.toFixed(0)}, after 1-row ${rssAfter.singleRow.toFixed(0)}, after ${RATE}/s ${rssAfter.fixedRate.toFixed(0)}, after ${BATCH_ROWS}-row ${rssAfter.batch.toFixed(0)} (max ${rssSummary.maxMb.toFixed(0)})`,
    );
    const rowsPerSecond = (r: LoadResult) => r.perSecond * BATCH_ROWS;
    return {
      anchors: ['bare Fastify route', 'mlflow models serve (scikit-learn MLP, uvicorn, 1 worker)'],
      connections: CONNECTIONS,
      seconds: SECONDS,
      singleRow: { perennial: perennialSingle, bare: bareSingle, mlflow: mlflowSingle },
      fixedRate1000: {
        p99Ms: perennialFixed.p99Ms,
        seconds: FIXED_RATE_SECONDS,
        perennial: perennialFixed,
        bare: bareFixed,
        mlflow: mlflowFixed,
      },
      batch100: {
        rowsPerSecond: { perennial: rowsPerSecond(perennialBatch), bare: rowsPerSecond(bareBatch), mlflow: rowsPerSecond(mlflowBatch) },
        perennial: perennialBatch,
        bare: bareBatch,
        mlflow: mlflowBatch,
      },
      ratios,
      targets,
      rss: rssSummary,
      ...(soaked ? { soak: soaked } : {}),
      batching,
    };
  } finally {
    for (const server of started) await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = { needs: 'nothing', run: serving };
