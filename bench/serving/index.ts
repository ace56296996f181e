/**
 * Model-server prediction under load on loopback: latency p50/p99 and throughput of
 * POST /predict against GET /healthz (anchor: the same server doing no model work) with the
 * same closed-loop load generator. Bounded in requests and time.
 */
import { Pool } from 'undici';
import { randomUUID } from 'node:crypto';
import { toRecords } from '../../client/dataset.ts';
import { ModelSpec } from '../../core/spec.ts';
import { weatherData } from '../../stack/demo.ts';
import type { LocalStack } from '../../stack/local.ts';
import { quantile } from '../shared/stack.ts';
import type { Benchmark } from '../shared/benchmark.ts';

const REQUESTS = 4000;
const CONCURRENCY = 16;
const TIME_LIMIT_MS = 60_000;

async function load(url: string, path: string, body?: (i: number) => string) {
  const pool = new Pool(url, { connections: CONCURRENCY });
  const latencies: number[] = [];
  let next = 0;
  const deadline = Date.now() + TIME_LIMIT_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS && Date.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        const res = await pool.request({
          path,
          method: body ? 'POST' : 'GET',
          headers: body ? { 'content-type': 'application/json' } : {},
          body: body?.(i),
        });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    perSecond: latencies.length / seconds,
  };
}

export async function serving(stack: LocalStack) {
  const spec = ModelSpec.parse({
    name: `bench-serving-${randomUUID().slice(0, 8)}`,
    features: ['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({ name })),
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: { candidates: [{ family: 'mlp', hidden: [32], epochs: 10 }] },
    approval: { required: false },
  });
  const seed = weatherData().seed;
  stack.store.addRecords(
    spec.name,
    toRecords(
      seed,
      spec.features.map((f) => f.name),
      spec.label.name,
      'bench',
    ),
  );
  await stack.client.temporal.workflow.execute('retrain', {
    taskQueue: stack.client.taskQueue,
    workflowId: `model/${spec.name}/retrain/1`,
    args: [{ spec, n: 1, trigger: { reason: 'benchmark model', rules: ['manual'] } }],
  });
  const rows = seed.map((r) => JSON.stringify({ rows: [Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]]))] }));

  const anchor = await load(stack.servingUrl, '/healthz');
  const predict = await load(stack.servingUrl, `/v1/models/${spec.name}/predict`, (i) => rows[i % rows.length]);
  const line = (name: string, r: typeof anchor) =>
    `  ${name.padEnd(16)} p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  ${r.perSecond.toFixed(0)} req/s  (${r.requests} requests)`;
  console.log(`${CONCURRENCY} concurrent connections on loopback`);
  console.log(line('healthz (anchor)', anchor));
  console.log(line('predict', predict));
  const ratios = { p50: predict.p50Ms / anchor.p50Ms, p99: predict.p99Ms / anchor.p99Ms, throughput: predict.perSecond / anchor.perSecond };
  console.log(
    `  ratios predict/anchor: p50 ${ratios.p50.toFixed(2)}x  p99 ${ratios.p99.toFixed(2)}x  throughput ${ratios.throughput.toFixed(2)}x`,
  );
  return { anchor: 'healthz', concurrency: CONCURRENCY, healthz: anchor, predict, ratios };
}

export const benchmark: Benchmark = { needs: 'stack', run: serving };
