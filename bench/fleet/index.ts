/**
 * What a fleet costs on one worker: registers N managed models (synthetic specs over a shared
 * small dataset, monitoring every PERENNIAL_FLEET_INTERVAL_S seconds, default 10, with the
 * per-model stagger; the first model trains its champion with the tiniest sweep and the others
 * adopt copies of it, see champions.ts), then runs monitoring for a window with light traffic
 * (one prediction per model every 30 s on average; PERENNIAL_FLEET_TRAFFIC_EVERY_S changes it, 0
 * for none) and reads the cost from the lifecycles' histories, the worker's process (a
 * process of its own, worker-process.ts), this process (the model server and the client) and
 * the services' processes (services-cpu.ts).
 *
 * `npm run bench -- fleet --models 10,100,1000` (default 10,100). The anchor is the cost measured
 * before quiet cycles (issue 13, 21 models): 11 history events and ~60 ms of worker CPU per cycle;
 * each run after the first is also stated per model as a ratio to the first run.
 */
import { statSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { toRecords } from '../../client/dataset.ts';
import { listFleet } from '../../client/fleet.ts';
import { lifecycleWorkflowId } from '../../core/messages.ts';
import { ModelSpec } from '../../core/spec.ts';
import { weatherData } from '../../stack/demo.ts';
import type { LocalStack } from '../../stack/local.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { quantile } from '../shared/stack.ts';
import { championOf, copyChampion } from './champions.ts';
import { windowCost, type WindowCost } from './history.ts';
import { cpuBetween, servicesCpuMs } from './services-cpu.ts';
import { startFleetWorker, type FleetWorker } from './worker-process.ts';

const INTERVAL_S = Number(process.env.PERENNIAL_FLEET_INTERVAL_S ?? 10);
/** The measured window (PERENNIAL_FLEET_WINDOW_S): 18 cycles per model at the default interval. */
const WINDOW_S = Number(process.env.PERENNIAL_FLEET_WINDOW_S ?? 180);
/** Seconds between predictions to each model; 0 for none (every cycle after the first is quiet). */
const TRAFFIC_EVERY_S = Number(process.env.PERENNIAL_FLEET_TRAFFIC_EVERY_S ?? 30);
const DAY_S = 86_400;
/** Temporal's default limit.historyCount.suggestContinueAsNew: the lifecycle continues as new when suggested. */
const IDLE_S = 20;
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4096;
/** Models set up at once: MLflow registrations and model loads in flight. */
const SETUP_BATCH = 8;
const ANCHOR = { name: 'before quiet cycles (21 models, issue 13)', historyEventsPerCycle: 11, cpuPerModelCycleMs: 60 };
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];

export function modelCounts(argv = process.argv): number[] {
  const at = argv.indexOf('--models');
  const list = at >= 0 ? argv[at + 1] : '10,100';
  const counts = (list ?? '').split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--models: give counts like 10,100,1000, got "${list}"`);
  return counts;
}

function fleetSpec(run: string, i: number, taskQueue: string): ModelSpec {
  return ModelSpec.parse({
    name: `fleet-${run}-${i}`,
    taskQueue,
    features: FEATURES.map((name) => ({ name })),
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: {
      window: { kind: 'lastRows', rows: 365 },
      sweep: {
        families: { softmax: { learningRate: { type: 'float', low: 0.02, high: 0.1, log: true } } },
        sampler: 'random',
        seed: 1,
        budget: { maxTrials: 1, maxEpochsPerTrial: 1 },
        earlyStopping: { kind: 'none' },
      },
    },
    monitoring: { interval: `${INTERVAL_S}s` },
    policies: {},
    approval: { required: false },
  });
}

/**
 * Waits until every lifecycle shows its champion in the fleet view: one visibility listing per
 * poll, not a query per workflow, which a worker busy with a thousand models may not answer in time.
 */
async function waitForChampions(stack: LocalStack, names: string[]): Promise<void> {
  const waiting = new Set(names);
  const total = waiting.size;
  const deadline = Date.now() + 60 * 60_000;
  while (waiting.size > 0) {
    if (Date.now() > deadline) throw new Error(`${waiting.size} models without a champion after an hour`);
    for (const row of await listFleet(stack.client.temporal)) if (row.champion) waiting.delete(row.model);
    if (waiting.size) {
      if (total > 1) console.log(`  ${total - waiting.size} of ${total} lifecycles have their champion`);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}

/** One row to one model every TRAFFIC_EVERY_S / N seconds, round robin: light, steady traffic. */
function startTraffic(stack: LocalStack, names: string[]) {
  const rows = weatherData().traffic.map((r) => Object.fromEntries(FEATURES.map((f) => [f, r[f]])));
  if (TRAFFIC_EVERY_S <= 0) return () => undefined;
  let k = 0;
  const timer = setInterval(
    () => {
      const name = names[k % names.length];
      const row = rows[k++ % rows.length];
      request(`${stack.servingUrl}/v1/models/${name}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [row] }),
      }).then(
        (res) => res.body.dump(),
        () => undefined,
      );
    },
    (TRAFFIC_EVERY_S * 1000) / names.length,
  );
  return () => clearInterval(timer);
}

function storeBytes(dataDir: string): number {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('perennial.sqlite'))
    .reduce((sum, f) => sum + statSync(join(dataDir, f)).size, 0);
}

/** The first model trains; the rest adopt copies of its champion, a few at a time. */
async function registerFleet(stack: LocalStack, specs: ModelSpec[]): Promise<number> {
  const seed = toRecords(weatherData().seed.slice(0, 400), FEATURES, 'weather', 'bench');
  const started = performance.now();
  const [first, ...rest] = specs;
  await stack.store.addRecords(first.name, seed);
  await stack.client.register(first);
  await waitForChampions(stack, [first.name]);
  const template = await championOf(stack, first.name);
  for (let i = 0; i < rest.length; i += SETUP_BATCH) {
    await Promise.all(
      rest.slice(i, i + SETUP_BATCH).map(async (spec) => {
        await stack.store.addRecords(spec.name, seed);
        await copyChampion(stack, template, spec.name);
        await stack.client.register(spec);
      }),
    );
    if ((i / SETUP_BATCH) % 25 === 24) console.log(`  ${i + SETUP_BATCH + 1} of ${specs.length} models registered`);
  }
  await waitForChampions(
    stack,
    specs.map((s) => s.name),
  );
  return (performance.now() - started) / 1000;
}

async function measureFleet(stack: LocalStack, worker: FleetWorker, models: number, idle: Idle) {
  const run = Date.now().toString(36);
  const specs = Array.from({ length: models }, (_, i) => fleetSpec(run, i, worker.taskQueue));
  const setupS = await registerFleet(stack, specs);
  console.log(`  ${models} models: every lifecycle monitoring its champion after ${setupS.toFixed(0)} s`);

  const stopTraffic = startTraffic(
    stack,
    specs.map((s) => s.name),
  );
  const from = Date.now();
  const workerCpuFrom = worker.cpuMs();
  const servingCpuFrom = process.cpuUsage();
  const servicesFrom = servicesCpuMs();
  let [peakRss, peakServingRss] = [worker.rssMiB(), ownRssMiB()];
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, worker.rssMiB());
    peakServingRss = Math.max(peakServingRss, ownRssMiB());
  }, 1_000);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const workerCpuMs = worker.cpuMs() - workerCpuFrom;
  const servingCpu = process.cpuUsage(servingCpuFrom);
  const servicesCpu = cpuBetween(servicesFrom, servicesCpuMs());
  const to = Date.now();
  clearInterval(sampler);
  stopTraffic();
  const rssMiB = worker.rssMiB();
  const windowS = (to - from) / 1000;

  const costs: WindowCost[] = [];
  for (const spec of specs) {
    const history = await stack.client.temporal.workflow.getHandle(lifecycleWorkflowId(spec.name)).fetchHistory();
    costs.push(windowCost(history.events ?? [], from, to));
  }
  const sum = (pick: (c: WindowCost) => number) => costs.reduce((s, c) => s + pick(c), 0);
  const cycles = sum((c) => c.cycleMs.length);
  const measured = sum((c) => c.measuredCycles);
  const perModelDay = (n: number) => (n / models) * (DAY_S / ((to - from) / 1000));
  const latencies = costs.flatMap((c) => c.cycleMs).sort((a, b) => a - b);
  const eventsPerModelDay = perModelDay(sum((c) => c.events));
  const result = {
    models,
    windowS: Math.round(windowS),
    setupS: Math.round(setupS),
    workerRssMiB: Math.round(rssMiB),
    peakRssMiB: Math.round(peakRss),
    // Net of the idle worker, which a fleet of 10 would otherwise be charged for.
    cpuPerModelCycleMs: Number(((workerCpuMs - idle.workerCpuMsPerS * windowS) / Math.max(1, cycles)).toFixed(2)),
    processCpuPerModelCycleMs: Number((workerCpuMs / Math.max(1, cycles)).toFixed(2)),
    // The bench's own process: the model server answering the traffic, the client, an idle worker.
    modelServerPeakRssMiB: Math.round(peakServingRss),
    modelServerCpuPerModelCycleMs: Number(((servingCpu.user + servingCpu.system) / 1000 / Math.max(1, cycles)).toFixed(2)),
    // What the same cycles cost the services on this machine (Temporal's dev server, MLflow).
    serviceCpuPerModelCycleMs: Object.fromEntries(
      Object.entries(servicesCpu).map(([service, ms]) => [service, Number((ms / Math.max(1, cycles)).toFixed(2))]),
    ),
    actionsPerModelDay: Math.round(perModelDay(sum((c) => c.actions))),
    historyEventsPerModelDay: Math.round(eventsPerModelDay),
    historyEventsPerCycle: Number((sum((c) => c.events) / Math.max(1, cycles)).toFixed(2)),
    cycles,
    quietShare: Number((Math.max(0, cycles - measured) / Math.max(1, cycles)).toFixed(3)),
    cycleP50Ms: quantile(latencies, 0.5),
    cycleP99Ms: quantile(latencies, 0.99),
    continueAsNewPerModelDay: Number((eventsPerModelDay / SUGGEST_CONTINUE_AS_NEW_EVENTS).toFixed(2)),
    continuedAsNewInWindow: sum((c) => c.continuedAsNew),
    storeBytes: storeBytes(stack.dataDir),
    // CPU figures are this process's own, but cycle latency also waits for a busy machine.
    loadAverage: Number(loadavg()[0].toFixed(2)),
  };
  console.log(`  ${JSON.stringify(result)}`);
  for (const spec of specs) await stack.client.stop(spec.name);
  return result;
}

type FleetRun = Awaited<ReturnType<typeof measureFleet>>;

/**
 * Is a model's cost flat as the fleet grows? The largest run against the first, per model: CPU
 * per cycle, actions per model-day, cycle p99 and memory above the idle worker (1 = flat).
 */
function perModelRatios(runs: FleetRun[], idleRssMiB: number) {
  if (runs.length < 2) return undefined;
  const [small, large] = [runs[0], runs[runs.length - 1]];
  const ratio = (pick: (r: FleetRun) => number) => Number((pick(large) / pick(small)).toFixed(2));
  const rssPerModel = (r: FleetRun) => Math.max(0, r.peakRssMiB - idleRssMiB) / r.models;
  return {
    models: `${large.models} vs ${small.models}`,
    cpuPerCycle: ratio((r) => r.cpuPerModelCycleMs),
    actionsPerModelDay: ratio((r) => r.actionsPerModelDay),
    cycleP99: ratio((r) => r.cycleP99Ms),
    rssPerModel: ratio(rssPerModel),
    rssPerModelMiB: [small, large].map((r) => Number(rssPerModel(r).toFixed(2))),
  };
}

const ownRssMiB = () => process.memoryUsage().rss / 2 ** 20;

interface Idle {
  workerCpuMsPerS: number;
  workerRssMiB: number;
  modelServerRssMiB: number;
}

/** The worker while no model is registered (Temporal Core's pollers, GC): CPU in ms per second, and memory. */
async function idleWorker(worker: FleetWorker): Promise<Idle> {
  const from = worker.cpuMs();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  return {
    workerCpuMsPerS: Number(((worker.cpuMs() - from) / IDLE_S).toFixed(1)),
    workerRssMiB: Math.round(worker.rssMiB()),
    modelServerRssMiB: Math.round(ownRssMiB()),
  };
}

export async function fleet(stack: LocalStack) {
  const worker = await startFleetWorker(stack, `fleet-${Date.now().toString(36)}`);
  const runs = [];
  let idle: Idle;
  try {
    idle = await idleWorker(worker);
    console.log(`  idle worker: ${idle.workerCpuMsPerS} ms CPU per second, ${idle.workerRssMiB} MiB`);
    for (const models of modelCounts()) runs.push(await measureFleet(stack, worker, models, idle));
  } finally {
    await worker.stop();
  }
  const anchorEventsPerModelDay = ANCHOR.historyEventsPerCycle * (DAY_S / INTERVAL_S);
  for (const r of runs) {
    console.log(
      `${r.models} models: ${r.historyEventsPerCycle} events and ${r.cpuPerModelCycleMs} ms CPU per cycle (anchor ${ANCHOR.historyEventsPerCycle} and ${ANCHOR.cpuPerModelCycleMs}): ratio ${(r.historyEventsPerModelDay / anchorEventsPerModelDay).toFixed(2)} in events per model-day`,
    );
  }
  const perModel = perModelRatios(runs, idle.workerRssMiB);
  if (perModel) console.log(`per model, ${perModel.models}: ${JSON.stringify(perModel)}`);
  return {
    anchor: { ...ANCHOR, historyEventsPerModelDay: anchorEventsPerModelDay },
    idle,
    perModel,
    intervalS: INTERVAL_S,
    trafficEverySPerModel: TRAFFIC_EVERY_S,
    runs,
  };
}

export const benchmark: Benchmark = { needs: 'stack', run: fleet };
