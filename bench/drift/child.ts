/**
 * The JS side of the drift benchmark, a process of its own so that its memory is its alone:
 * `node --expose-gc --import tsx bench/drift/child.ts --drift-child MANIFEST`. It loads the data
 * (data.ts), then answers one command per stdin line with one JSON line (see `child`).
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { dataDrift, featureColumns, type DataDriftReport, type FeatureColumns } from '../../core/drift/data-drift.ts';
import type { DriftTestChoice } from '../../core/drift/catalogue.ts';
import { median } from '../../core/stats/quantiles.ts';
import { columnsOf, readData, rowsOf } from './data.ts';

/** Repetitions of featureColumns over 1M row objects, after a warm-up. */
export const COLUMN_REPETITIONS = 3;
/** Monitoring cycles run for the memory measurement. */
export const CYCLES = 30;

const gc = (globalThis as { gc?: () => void }).gc;

/** A full collection, including the array buffers V8 frees after a turn of the event loop. */
async function collect(): Promise<void> {
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
}

export function compact(report: DataDriftReport) {
  return {
    rows: report.rows,
    drifted: report.drifted,
    driftedShare: report.driftedShare,
    skipped: report.skipped,
    features: report.features.map((f) => ({
      name: f.name,
      test: f.test,
      statistic: f.statistic,
      pValue: f.pValue,
      drifted: f.drifted,
      rows: f.rows,
      missing: f.missing,
      histogram: f.histogram,
    })),
  };
}

export type MemoryPoint = { cycle: number; ms: number; heapUsed: number; rss: number; arrayBuffers: number; external: number };

/**
 * The JS side: loads the data, then answers one command per stdin line with one JSON line:
 * `auto` / `ks` time one dataDrift (automatic / KS and chi-square forced), `report` gives both
 * reports, `cycles` runs the memory cycles, `columns` times featureColumns over 1M row objects.
 */
async function child(manifestPath: string): Promise<void> {
  const data = readData(manifestPath);
  const { manifest } = data;
  const columns = columnsOf(data);
  const profile = { features: manifest.profile.features };
  const forced: Record<string, DriftTestChoice> = Object.fromEntries(
    manifest.features.map((f) => [f.name, { test: f.kind === 'number' ? 'ks' : 'chisquare' }]),
  );
  const reports: { auto?: DataDriftReport; ks?: DataDriftReport } = {};
  const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const timed = async (kind: 'auto' | 'ks') => {
    await collect();
    const t = performance.now();
    reports[kind] = dataDrift({ columns, profile, choices: kind === 'ks' ? forced : undefined, histogramBins: manifest.bins });
    return performance.now() - t;
  };

  reply({ ready: true, node: process.version, gcExposed: gc !== undefined });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = line.trim();
    if (command === 'auto' || command === 'ks') reply({ ms: await timed(command) });
    else if (command === 'report') reply({ auto: compact(reports.auto!), ks: compact(reports.ks!) });
    else if (command === 'cycles') {
      // monitoring cycles: the same summary again and again in one process; memory after a full gc
      const memory: MemoryPoint[] = [];
      await collect();
      const m0 = process.memoryUsage();
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const t = performance.now();
        const report = dataDrift({ columns, profile, histogramBins: manifest.bins });
        const ms = performance.now() - t;
        if (report.features.length !== manifest.features.length) throw new Error('bench drift: a cycle skipped features');
        await collect();
        const m = process.memoryUsage();
        memory.push({ cycle, ms, heapUsed: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers, external: m.external });
      }
      reply({ before: { heapUsed: m0.heapUsed, rss: m0.rss, arrayBuffers: m0.arrayBuffers, external: m0.external }, memory });
    } else if (command === 'columns') {
      // building the columns from 1M row objects (what a cycle over the log starts with)
      const features = manifest.features.map((f) => ({ name: f.name, type: f.kind }));
      let t = performance.now();
      let rows: Array<Record<string, unknown>> | undefined = rowsOf(data);
      const rowsBuildMs = performance.now() - t;
      let built: FeatureColumns | undefined;
      const ms: number[] = [];
      let warmupMs = 0;
      for (let rep = 0; rep <= COLUMN_REPETITIONS; rep++) {
        await collect();
        t = performance.now();
        built = featureColumns(rows, features);
        if (rep === 0) warmupMs = performance.now() - t;
        else ms.push(performance.now() - t);
      }
      const sameAsFile = manifest.features.every((f) => {
        const a = built![f.name];
        const b = columns[f.name];
        if (a.kind === 'number' && b.kind === 'number')
          return a.missing === b.missing && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);
        return (
          a.kind === 'category' &&
          b.kind === 'category' &&
          a.missing === b.missing &&
          JSON.stringify(Object.entries(a.counts).sort()) === JSON.stringify(Object.entries(b.counts).sort())
        );
      });
      // Dropped so the next command's memory figures do not count a million row objects.
      // eslint-disable-next-line no-useless-assignment
      rows = undefined;
      built = undefined;
      reply({ warmupMs, ms, medianMs: median(ms), rowsBuildMs, sameAsFile });
    } else if (command === 'quit') break;
    else reply({ error: `unknown command ${JSON.stringify(command)}` });
  }
  process.exit(0);
}

if (process.argv.includes('--drift-child') && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await child(process.argv[process.argv.indexOf('--drift-child') + 1]);
}
