/**
 * A full data-drift summary over 1,000,000 logged rows x 20 features (16 numeric, 4 category):
 * core/drift/data-drift.ts `dataDrift` (a test and a 20-bin histogram per feature) against the
 * same statistics in numpy/scipy (anchor: bench/drift/drift_reference.py in the project's Python venv,
 * scipy.stats.ks_2samp + np.histogram per numeric feature, np.bincount + scipy.stats.chisquare per
 * category feature). Both sides read the same binary file (.data/bench-drift/, written once,
 * seeded) and time only the statistics. Each side is a long-lived child process and they take
 * turns, one run at a time (a warm-up, then REPETITIONS rounds), so load from elsewhere on the
 * machine falls on both alike; medians are reported.
 *
 * Reported beside the anchor:
 * - dataDrift with the automatic choice (1M rows: Wasserstein / Jensen-Shannon), and with KS /
 *   chi-square forced by per-feature choices, the like-for-like comparison with ks_2samp;
 * - KS statistics, histograms and chi-square statistics checked against scipy/numpy;
 * - building the columns from 1M row objects (featureColumns), which a monitoring cycle over the
 *   prediction log also pays; not part of the comparison;
 * - memory over CYCLES monitoring cycles in one process (after a full gc each): the growth from
 *   cycle MEMORY_FROM_CYCLE to the last.
 *
 * The data is data.ts's; the JS side is child.ts, a process of its own. No Temporal, MLflow or model
 * server is started for this benchmark.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median } from '../../core/stats/quantiles.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { VENV_BIN } from '../../stack/services.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { COLUMN_REPETITIONS, CYCLES, type compact, type MemoryPoint } from './child.ts';
import { DATA_DIR, ensureData, PROFILE_SAMPLE, type Manifest } from './data.ts';

const REPETITIONS = 5;
const MEMORY_FROM_CYCLE = 5;
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

type Report = ReturnType<typeof compact>;

type PythonFeature =
  | {
      name: string;
      kind: 'number';
      ks: number;
      pValue: number;
      edges: number[];
      reference: number[];
      current: number[];
      n: number;
      refN: number;
    }
  | { name: string; kind: 'category'; chisquare: number; pValue: number; categories: string[]; counts: number[] };

/** A child process answering one JSON line per command line. */
class LineChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;
  private stderr = '';
  private exited: Error | undefined;

  constructor(
    private readonly name: string,
    command: string,
    args: string[],
  ) {
    this.proc = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(line);
      } else this.lines.push(line);
    });
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = new Error(`${this.name} exited (${signal ?? code}):\n${this.stderr}`);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  /** The next JSON line. */
  next<T>(): Promise<T> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as T);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<string>((resolve, reject) => (this.waiting = { resolve, reject })).then((l) => JSON.parse(l) as T);
  }

  ask<T>(command: string): Promise<T> {
    this.proc.stdin.write(`${command}\n`);
    return this.next<T>();
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.stdin.end('quit\n');
    await done;
  }

  kill(): void {
    if (!this.exited) this.proc.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// the benchmark

export async function drift() {
  const data = ensureData();
  const manifest = JSON.parse(readFileSync(data.manifest, 'utf8')) as Manifest;
  const nNumeric = manifest.features.filter((f) => f.kind === 'number').length;
  const nCategory = manifest.features.length - nNumeric;
  console.log(
    `${manifest.rows.toLocaleString('en-US')} rows x ${manifest.features.length} features (${nNumeric} numeric, ${nCategory} category), ` +
      `${manifest.features.filter((f) => f.drifted).length} drifted by construction; data ${data.generated ? `generated in ${(data.ms / 1000).toFixed(1)} s` : 'reused'}: ${join(DATA_DIR, manifest.file)}`,
  );

  // Both sides stay up and take turns, one run at a time, so load from elsewhere on the machine
  // falls on both alike.
  const js = new LineChild('the JS side', process.execPath, [
    '--expose-gc',
    '--max-old-space-size=4096',
    '--import',
    'tsx',
    CHILD,
    '--drift-child',
    data.manifest,
  ]);
  const py = new LineChild('bench/drift/drift_reference.py', join(VENV_BIN, 'python'), [
    join(PROJECT_ROOT, 'bench', 'drift', 'drift_reference.py'),
    data.manifest,
    '--serve',
  ]);
  try {
    const jsInfo = await js.next<{ node: string; gcExposed: boolean }>();
    const pyInfo = await py.next<{ numpy: string; scipy: string }>();
    console.log(
      `  node ${jsInfo.node} (dataDrift, child process${jsInfo.gcExposed ? ', --expose-gc' : ''}) and numpy ${pyInfo.numpy} / scipy ${pyInfo.scipy} (anchor) take turns: a warm-up, then ${REPETITIONS} runs each ...`,
    );
    const sides = {
      anchor: () => py.ask<{ ms: number }>('run'),
      ks: () => js.ask<{ ms: number }>('ks'),
      auto: () => js.ask<{ ms: number }>('auto'),
    };
    type Side = keyof typeof sides;
    const order: Side[] = ['anchor', 'ks', 'auto'];
    const times: Record<Side, { warmupMs: number; ms: number[] }> = {
      anchor: { warmupMs: 0, ms: [] },
      ks: { warmupMs: 0, ms: [] },
      auto: { warmupMs: 0, ms: [] },
    };
    for (const side of order) times[side].warmupMs = (await sides[side]()).ms;
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // rotate who goes first
      for (let k = 0; k < order.length; k++) {
        const side = order[(rep + k) % order.length];
        times[side].ms.push((await sides[side]()).ms);
      }
    }
    const reports = await js.ask<{ auto: Report; ks: Report }>('report');
    const reference = await py.ask<{ features: PythonFeature[] }>('report');
    await py.quit();
    console.log(`  ${CYCLES} monitoring cycles in one process, then featureColumns over 1M row objects ...`);
    const cycles = await js.ask<{ before: Omit<MemoryPoint, 'cycle' | 'ms'>; memory: MemoryPoint[] }>('cycles');
    const columnTimes = await js.ask<{ warmupMs: number; ms: number[]; medianMs: number; rowsBuildMs: number; sameAsFile: boolean }>(
      'columns',
    );
    await js.quit();
    return summarize(
      manifest,
      { node: jsInfo.node, gcExposed: jsInfo.gcExposed, numpy: pyInfo.numpy, scipy: pyInfo.scipy },
      times,
      reports,
      reference.features,
      cycles,
      columnTimes,
    );
  } finally {
    js.kill();
    py.kill();
  }
}

function summarize(
  manifest: Manifest,
  versions: { node: string; gcExposed: boolean; numpy: string; scipy: string },
  times: Record<'anchor' | 'ks' | 'auto', { warmupMs: number; ms: number[] }>,
  reports: { auto: Report; ks: Report },
  reference: PythonFeature[],
  cycles: { before: Omit<MemoryPoint, 'cycle' | 'ms'>; memory: MemoryPoint[] },
  columnTimes: { warmupMs: number; ms: number[]; medianMs: number; rowsBuildMs: number; sameAsFile: boolean },
) {
  // agreement with scipy/numpy: the KS-forced run computes the anchor's statistics
  let ksMaxDiff = 0;
  let ksPMaxDiff = 0;
  let histMaxDiff = 0;
  let chiMaxRelDiff = 0;
  let chiPMaxDiff = 0;
  for (const ref of reference) {
    const ours = reports.ks.features.find((f) => f.name === ref.name);
    if (!ours) throw new Error(`bench drift: ${ref.name} missing from the JS report`);
    if (ref.kind === 'number') {
      if (ours.test !== 'ks' || !('edges' in ours.histogram)) throw new Error(`bench drift: ${ref.name} was not tested with KS`);
      ksMaxDiff = Math.max(ksMaxDiff, Math.abs(ours.statistic - ref.ks));
      ksPMaxDiff = Math.max(ksPMaxDiff, Math.abs(ours.pValue! - ref.pValue));
      const h = ours.histogram;
      for (let i = 0; i < ref.edges.length; i++) histMaxDiff = Math.max(histMaxDiff, Math.abs(h.edges[i] - ref.edges[i]));
      for (let i = 0; i < ref.reference.length; i++) {
        histMaxDiff = Math.max(
          histMaxDiff,
          Math.abs(h.reference[i] - ref.reference[i] / ref.refN),
          Math.abs(h.current[i] - ref.current[i] / ref.n),
        );
      }
    } else {
      if (ours.test !== 'chisquare') throw new Error(`bench drift: ${ref.name} was not tested with chi-square`);
      chiMaxRelDiff = Math.max(chiMaxRelDiff, Math.abs(ours.statistic - ref.chisquare) / Math.max(Math.abs(ref.chisquare), 1e-300));
      chiPMaxDiff = Math.max(chiPMaxDiff, Math.abs(ours.pValue! - ref.pValue));
    }
  }
  const expected = manifest.features.filter((f) => f.drifted).map((f) => f.name);
  const medians = { anchor: median(times.anchor.ms), ks: median(times.ks.ms), auto: median(times.auto.ms) };
  const ratios = { ksForced: medians.ks / medians.anchor, automatic: medians.auto / medians.anchor };
  const at = (cycle: number) => cycles.memory.find((m) => m.cycle === cycle)!;
  const from = at(MEMORY_FROM_CYCLE);
  const to = at(CYCLES);
  const growth = {
    heapUsed: to.heapUsed - from.heapUsed,
    rss: to.rss - from.rss,
    arrayBuffers: to.arrayBuffers - from.arrayBuffers,
    external: to.external - from.external,
  };
  const cycleMs = median(cycles.memory.map((m) => m.ms));

  const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
  const kb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(0)} KB`;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`  medians of ${REPETITIONS} runs after a warm-up; ratio = time / anchor (below 1: faster than numpy/scipy)`);
  console.log(
    `    numpy/scipy (anchor)                ${ms(medians.anchor)}   1.00x   ks_2samp + np.histogram x${manifest.features.length - 4}, np.bincount + chisquare x4`,
  );
  console.log(`    dataDrift, KS / chi-square forced   ${ms(medians.ks)}   ${ratios.ksForced.toFixed(2)}x   the same tests as the anchor`);
  console.log(
    `    dataDrift, automatic choice         ${ms(medians.auto)}   ${ratios.automatic.toFixed(2)}x   Wasserstein / Jensen-Shannon at 1M rows`,
  );
  console.log(
    `    featureColumns, 1M row objects      ${ms(columnTimes.medianMs)}           not part of either side above (median of ${COLUMN_REPETITIONS}; columns ${columnTimes.sameAsFile ? 'equal' : 'DIFFERENT from'} the file's)`,
  );
  console.log(
    `  agreement with scipy/numpy: KS D max |diff| ${ksMaxDiff.toExponential(1)} (required <= ${KS_TOLERANCE}), KS p max |diff| ${ksPMaxDiff.toExponential(1)}; ` +
      `histogram edges and shares max |diff| ${histMaxDiff.toExponential(1)}; chi-square X² max rel. diff ${chiMaxRelDiff.toExponential(1)}, p max |diff| ${chiPMaxDiff.toExponential(1)}`,
  );
  console.log(`  drifted, automatic: ${reports.auto.drifted.join(', ')}  (by construction: ${expected.join(', ')})`);
  console.log(`  drifted, KS / chi-square forced: ${reports.ks.drifted.join(', ')}`);
  console.log(
    `  memory over ${CYCLES} cycles (${versions.gcExposed ? 'after a full gc each' : 'gc not exposed'}; a cycle takes ${cycleMs.toFixed(0)} ms): cycle ${MEMORY_FROM_CYCLE} -> ${CYCLES}: ` +
      `heapUsed ${kb(growth.heapUsed)}, arrayBuffers ${kb(growth.arrayBuffers)}, rss ${kb(growth.rss)}  (at cycle ${CYCLES}: heapUsed ${mb(to.heapUsed)}, arrayBuffers ${mb(to.arrayBuffers)} = the data the child holds, rss ${mb(to.rss)})`,
  );
  if (ksMaxDiff > KS_TOLERANCE) throw new Error(`bench drift: KS statistics differ from scipy by ${ksMaxDiff}`);
  if (!columnTimes.sameAsFile) throw new Error('bench drift: featureColumns over the row objects differs from the file columns');

  const runs = (t: { warmupMs: number; ms: number[] }) => ({ median: median(t.ms), runs: t.ms, warmup: t.warmupMs });
  return {
    anchor: 'numpy/scipy (bench/drift/drift_reference.py)',
    data: {
      rows: manifest.rows,
      features: manifest.features.map(({ name, kind, about, drifted }) => ({ name, kind, about, drifted })),
      referenceRows: manifest.profile.rows,
      profileSample: PROFILE_SAMPLE,
      bins: manifest.bins,
      seed: manifest.seed,
      file: join('.data', 'bench-drift', manifest.file),
    },
    repetitions: REPETITIONS,
    versions,
    ms: {
      anchor: runs(times.anchor),
      ksForced: runs(times.ks),
      automatic: runs(times.auto),
      featureColumns: {
        median: columnTimes.medianMs,
        runs: columnTimes.ms,
        warmup: columnTimes.warmupMs,
        rowsBuildMs: columnTimes.rowsBuildMs,
      },
    },
    ratios,
    agreement: {
      ksStatisticMaxAbsDiff: ksMaxDiff,
      ksTolerance: KS_TOLERANCE,
      ksPValueMaxAbsDiff: ksPMaxDiff,
      histogramMaxAbsDiff: histMaxDiff,
      chiSquareMaxRelDiff: chiMaxRelDiff,
      chiSquarePValueMaxAbsDiff: chiPMaxDiff,
    },
    drifted: { automatic: reports.auto.drifted, ksForced: reports.ks.drifted, byConstruction: expected },
    features: reports.auto.features.map((f) => {
      const k = reports.ks.features.find((x) => x.name === f.name)!;
      const about = manifest.features.find((x) => x.name === f.name)!.about;
      return {
        name: f.name,
        about,
        automatic: { test: f.test, statistic: f.statistic, drifted: f.drifted },
        forced: { test: k.test, statistic: k.statistic, pValue: k.pValue, drifted: k.drifted },
        rows: f.rows,
        missing: f.missing,
      };
    }),
    memory: {
      gcExposed: versions.gcExposed,
      cycles: CYCLES,
      growthFromCycle: MEMORY_FROM_CYCLE,
      growth,
      cycleMedianMs: cycleMs,
      before: cycles.before,
      perCycle: cycles.memory,
    },
  };
}

const KS_TOLERANCE = 1e-12;

export const benchmark: Benchmark = { needs: 'nothing', run: () => drift() };
