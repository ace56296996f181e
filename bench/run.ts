/**
 * `npm run bench [-- NAME...]`: benchmarks that print ratios against a named anchor measured
 * in the same run, and write their numbers to bench/results/NAME.json. One folder each:
 *   orchestration  a retrain on Temporal vs the same activities called in-process
 *   serving        model-server predict vs a bare Fastify route and `mlflow models serve` (~3 minutes)
 *   automl         sweep orchestration overhead, parallel efficiency, model quality vs
 *                  scikit-learn untuned and tuned by Optuna, TPE vs random, online updates vs
 *                  full retraining on drift-eval's streams (~45 minutes; `--sections quality`
 *                  runs one section, keeping the others' last numbers)
 *   automl-history warm sweeps (history of earlier sweeps) vs cold ones on the weather and flights streams (~10 minutes)
 *   drift          a data-drift summary over 1M rows x 20 features vs numpy/scipy, and memory
 *                  over monitoring cycles (~2 minutes)
 *   drift-eval     prequential accuracy and retrains of never / scheduled / policy retraining on
 *                  the weather, flights, SEA and hyperplane streams vs retrain-every-window, and
 *                  drift detectors' delay and false alarms on synthetic streams (about 10 minutes)
 *   strategies     the sequential canary and A/B test against today's canary rule and fixed-horizon /
 *                  peeking z-tests on simulated labelled traffic with known truth; CBPE's estimated vs
 *                  realised accuracy on the weather, flights and a synthetic stream (about two minutes)
 *   fleet          N managed models on one worker (`--models 10,100,1000`, default 10,100): RSS, CPU,
 *                  Temporal actions and history events per model-day, cycle latency, store size
 *                  (a few minutes per N, plus training N tiny models)
 *   store-scale    a monitoring cycle's store calls on a log of 1M vs 10M predictions (`--sizes`), Postgres
 *                  and SQLite; fill time, bytes, import throughput (tens of minutes at 10M)
 *   store-import   the Postgres store's import by COPY vs the multi-row INSERT before it, 100k records (~1 minute)
 *   gbdt           ml/gbdt/ training time per tree vs LightGBM (2 threads, and 1) on 20k and 100k synthetic
 *                  rows x 20 columns, leaf-wise 31 leaves (a few minutes)
 *   chaos          every scenario in stack/chaos/ in its full form: worker killed 5 times in a sweep,
 *                  Temporal killed and restarted mid-retrain, ... (PERENNIAL_CHAOS=a,b picks
 *                  scenarios; tens of minutes)
 * The shared stack (Temporal, MLflow, worker, model server) starts only if a chosen benchmark
 * needs it (its `benchmark.needs`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.ts';
import { benchmark as automl } from './automl/index.ts';
import { benchmark as automlHistory } from './automl-history/index.ts';
import { benchmark as chaos } from './chaos/index.ts';
import { benchmark as drift } from './drift/index.ts';
import { benchmark as fleet } from './fleet/index.ts';
import { benchmark as gbdt } from './gbdt/index.ts';
import { benchmark as driftEval } from './drift-eval/index.ts';
import { benchmark as orchestration } from './orchestration/index.ts';
import { benchmark as serving } from './serving/index.ts';
import { benchmark as strategies } from './strategies/index.ts';
import { benchmark as storeImport } from './store-import/index.ts';
import { benchmark as storeScale } from './store-scale/index.ts';
import type { Benchmark } from './shared/benchmark.ts';
import { withBenchStack } from './shared/stack.ts';
import type { LocalStack } from '../stack/local.ts';

const BENCHMARKS: Record<string, Benchmark> = {
  orchestration,
  serving,
  automl,
  drift,
  'drift-eval': driftEval,
  chaos,
  strategies,
  fleet,
  'store-scale': storeScale,
  'store-import': storeImport,
  'automl-history': automlHistory,
  gbdt,
};

// Options (`--models 10,100`) are the benchmarks' own: bench/fleet reads --models, bench/automl --sections.
const names = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && !['--models', '--sizes', '--sections'].includes(all[i - 1]));
const chosen = names.length ? names : Object.keys(BENCHMARKS);
const unknown = chosen.filter((n) => !BENCHMARKS[n]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

async function runAll(stack?: LocalStack): Promise<void> {
  for (const name of chosen) {
    console.log(`\n== ${name}`);
    const bench = BENCHMARKS[name];
    const result = bench.needs === 'stack' ? await bench.run(stack!) : await bench.run();
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    const file = join(PROJECT_ROOT, 'bench', 'results', `${name}.json`);
    writeFileSync(file, JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...result }, null, 2));
    console.log(`results: ${file}`);
  }
}

if (chosen.some((n) => BENCHMARKS[n].needs === 'stack')) await withBenchStack(runAll);
else await runAll();
