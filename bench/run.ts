/**
 * `npm run bench [-- NAME...]`: benchmarks that print ratios against a named anchor measured
 * in the same run, and write their numbers to bench/results/NAME.json.
 *   orchestration  a retrain on Temporal vs the same activities called in-process
 *   serving        model-server predict latency/throughput vs its /healthz anchor
 *   automl         sweep orchestration overhead, parallel efficiency, model quality vs
 *                  scikit-learn, TPE vs random (bench/automl.ts; ~15 minutes)
 *   drift          a data-drift summary over 1M rows x 20 features vs numpy/scipy, and memory
 *                  over monitoring cycles (bench/drift.ts; ~2 minutes)
 *   drift-eval     prequential accuracy and retrains of never / scheduled / policy retraining on
 *                  the weather, flights, SEA and hyperplane streams vs retrain-every-window, and
 *                  drift detectors' delay and false alarms on synthetic streams (bench/drift-eval.ts;
 *                  about 10 minutes)
 *   chaos          every scenario in stack/chaos/ in its full form: worker killed 5 times in a sweep,
 *                  Temporal killed and restarted mid-retrain, ... (bench/chaos.ts; PERENNIAL_CHAOS=a,b
 *                  picks scenarios; tens of minutes)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config/paths.ts';
import { automl } from './automl.ts';
import { chaos } from './chaos.ts';
import { drift } from './drift.ts';
import { driftEval } from './drift-eval.ts';
import { orchestration } from './orchestration.ts';
import { serving } from './serving.ts';
import { withBenchStack } from './stack.ts';

const BENCHMARKS: Record<string, (stack: Parameters<Parameters<typeof withBenchStack>[0]>[0]) => Promise<object>> = { orchestration, serving, automl, drift, 'drift-eval': driftEval, chaos };

const names = process.argv.slice(2).filter((a) => a !== '--');
const chosen = names.length ? names : Object.keys(BENCHMARKS);
const unknown = chosen.filter((n) => !BENCHMARKS[n]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

await withBenchStack(async (stack) => {
  for (const name of chosen) {
    console.log(`\n== ${name}`);
    const result = await BENCHMARKS[name](stack);
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    const file = join(PROJECT_ROOT, 'bench', 'results', `${name}.json`);
    writeFileSync(file, JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...result }, null, 2));
    console.log(`results: ${file}`);
  }
});
