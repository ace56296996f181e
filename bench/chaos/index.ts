/**
 * `npm run bench -- chaos`: every chaos scenario in stack/chaos/ (each module exporting
 * `scenario: FaultScenario`) in its full form, one after another; PERENNIAL_CHAOS=a,b runs only
 * those, keeping the other scenarios' earlier results in bench/results/chaos.json (each fault
 * carries the time it was measured). Each scenario brings up its own services and processes, so the shared benchmark stack is
 * not used. A scenario that throws is reported as not survived, with its error.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FaultResult, FaultScenario } from '../../stack/chaos/fault.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import type { Benchmark } from '../shared/benchmark.ts';

const CHAOS_DIR = join(PROJECT_ROOT, 'stack', 'chaos');

/** Listed, not imported by name: scenarios added to the folder are picked up without touching this file. */
export async function chaosScenarios(): Promise<FaultScenario[]> {
  const scenarios: FaultScenario[] = [];
  for (const file of readdirSync(CHAOS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const module = (await import(pathToFileURL(join(CHAOS_DIR, file)).href)) as { scenario?: FaultScenario };
    if (module.scenario) scenarios.push(module.scenario);
  }
  return scenarios;
}

type Fault =
  FaultResult | (Omit<FaultResult, 'lost' | 'duplicated' | 'recoverSeconds'> & { lost: null; duplicated: null; recoverSeconds: null });

export async function chaos(): Promise<{ faults: Fault[] }> {
  const chosen = process.env.PERENNIAL_CHAOS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const all = await chaosScenarios();
  const unknown = chosen?.filter((name) => !all.some((s) => s.name === name)) ?? [];
  if (unknown.length)
    throw new Error(`PERENNIAL_CHAOS names unknown scenario(s) ${unknown.join(', ')}; choose from ${all.map((s) => s.name).join(', ')}`);
  const faults: Fault[] = [];
  for (const scenario of all.filter((s) => !chosen || chosen.includes(s.name))) {
    console.log(`-- ${scenario.name} (full form)`);
    const started = Date.now();
    let fault: Fault;
    try {
      fault = await scenario.run({ full: true });
    } catch (err) {
      fault = {
        name: scenario.name,
        survived: false,
        lost: null,
        duplicated: null,
        recoverSeconds: null,
        details: { error: (err as Error).stack ?? String(err) },
      };
    }
    fault.details = { ...fault.details, minutes: Math.round((Date.now() - started) / 600) / 100, measuredAt: new Date().toISOString() };
    console.log(`   survived=${fault.survived} lost=${fault.lost} duplicated=${fault.duplicated} recoverSeconds=${fault.recoverSeconds}`);
    faults.push(fault);
  }
  // A partial run updates its scenarios and keeps what the others measured last time.
  const earlier = chosen ? earlierFaults().filter((f) => !chosen.includes(f.name) && all.some((s) => s.name === f.name)) : [];
  return { faults: [...faults, ...earlier].sort((a, b) => a.name.localeCompare(b.name)) };
}

function earlierFaults(): Fault[] {
  const file = join(PROJECT_ROOT, 'bench', 'results', 'chaos.json');
  if (!existsSync(file)) return [];
  const { at, faults } = JSON.parse(readFileSync(file, 'utf8')) as { at?: string; faults?: Fault[] };
  return (faults ?? []).map((f) => ({ ...f, details: { measuredAt: at, ...f.details } }));
}

export const benchmark: Benchmark = { needs: 'nothing', run: chaos };
