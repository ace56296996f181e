/** The printed tables and the accuracy chart's spec of bench/drift-eval/index.ts. */
import type { TopLevelSpec } from 'vega-lite';
import { accuracyChartSpec } from './accuracy-chart.ts';
import type { DetectorEvaluation } from './detector-eval.ts';
import type { StreamResult } from './results.ts';
import type { StreamSetup } from './setup.ts';
import { rollingAccuracy, streamAccuracy, type PrequentialRun } from '../../core/prequential.ts';

export const ANCHOR = 'every window';
export const PERENNIAL = "Perennial's policies";

const COLORS: Record<string, { color: string; dash?: number[] }> = {
  'never retrained': { color: '#9e9e9e', dash: [6, 4] },
  [ANCHOR]: { color: '#1f77b4' },
  [PERENNIAL]: { color: '#d62728' },
};

/** Accuracy over the windows of one seed's run of every strategy, Perennial's retrains marked. */
export function accuracyChart(setup: StreamSetup, runs: Record<string, PrequentialRun>, seed: number): TopLevelSpec {
  const smoothing = setup.plotSmoothing;
  const what =
    smoothing > 1
      ? `Accuracy of the model in service on each window before learning it; trailing mean over ${smoothing} windows.`
      : 'Accuracy of the model in service on each window before learning it.';
  return accuracyChartSpec({
    title: `Prequential accuracy: ${setup.name}`,
    subtitle: `${what} ${setup.spec.name}: ${setup.windows.length} windows; training seed ${seed}.`,
    xLabels: setup.windowLabels,
    yLabel: 'accuracy',
    boundaries: setup.boundaries,
    series: Object.entries(runs).map(([name, run]) => ({
      name: `${name}: ${streamAccuracy(run.scores).toFixed(3)}, ${retrainCount(run)}`,
      ...(COLORS[name] ?? { color: '#2ca02c', dash: [2, 3] }),
      values: rollingAccuracy(run.scores, smoothing),
      ...(name === PERENNIAL ? { retrainsAfter: run.retrainsAfter, promotionsAfter: run.promotionsAfter } : {}),
    })),
  });
}

function retrainCount(run: { retrainsAfter: number[]; promotionsAfter: number[] }): string {
  const n = run.retrainsAfter.length;
  const kept = n - run.promotionsAfter.length;
  return `${n} retrain${n === 1 ? '' : 's'}${kept ? ` (${run.promotionsAfter.length} promoted)` : ''}`;
}

const pts = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(1)}`;
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const count = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export function printStream(r: StreamResult): void {
  console.log(
    `  ${r.windows} windows, ${r.rows} rows; every retrain learns the last ${r.trainRows} labelled rows; always the initial majority class: ${r.majorityBaseline.toFixed(3)}`,
  );
  console.log(`  means over training seeds ${r.seeds.join(', ')}; the gap's range over the seeds in brackets`);
  console.log(
    `  ${pad('strategy', 24)}${pad('accuracy', 10)}${pad('vs anchor, pt', 22)}${pad('log loss', 10)}${pad('retrains (promoted)', 21)}share of anchor's retrains`,
  );
  for (const [name, s] of Object.entries(r.strategies)) {
    const gap = name === ANCHOR ? '' : `${pts(s.gapPoints)} [${pts(s.gapRangePoints[0])}, ${pts(s.gapRangePoints[1])}]`;
    console.log(
      `  ${pad(name + (name === ANCHOR ? ' (anchor)' : ''), 24)}${pad(s.accuracy.toFixed(3), 10)}${pad(gap, 22)}${pad(s.logLoss.toFixed(3), 10)}${pad(`${count(s.retrains)} (${count(s.promotions)})`, 21)}${(100 * s.retrainShare).toFixed(0)}%`,
    );
  }
  console.log(`  Perennial (cooldown = ${r.perennial.cooldownCycles} cycles = windows):`);
  for (const run of r.bySeed) {
    console.log(`   seed ${run.seed}:`);
    for (const d of run.decisions) {
      const gate = `holdout of ${d.holdout.rows}: challenger ${d.holdout.challenger.toFixed(3)} vs champion ${d.holdout.champion.toFixed(3)}, ${d.promoted ? 'promoted' : 'champion kept'}`;
      console.log(`    retrained after the window from ${d.window} (window ${d.afterWindow}): ${d.reasons.join('; ')}; ${gate}`);
    }
    for (const [rule, t] of Object.entries(run.rules))
      console.log(
        `    rule ${pad(rule, 16)} fired ${t.fired}, breached but held back ${t.heldBack}, not measurable in ${t.unmeasured} of ${r.windows - 1} cycles`,
      );
  }
  const trainings = r.bySeed.reduce((a, s) => a + s.trainings, 0);
  const trainSeconds = r.bySeed.reduce((a, s) => a + s.trainSeconds, 0);
  console.log(
    `  ${trainings} trainings (${trainSeconds.toFixed(1)} s), ${r.seconds.toFixed(1)} s in all; plot (seed ${r.bySeed[0].seed}): ${r.plot}`,
  );
}

export function printDetectors(d: DetectorEvaluation): void {
  console.log(
    `  ${d.length} rows per stream, change every ${d.changeEvery}, seeds ${d.seeds.join(', ')}; model trained on the first ${d.trainRows} rows`,
  );
  console.log(
    `  ${pad('stream', 22)}${pad('detector', 14)}${pad('detected', 10)}${pad('mean delay', 12)}${pad('median', 9)}${pad('mean delay per change (detected/seeds)', 58)}false alarms /10k rows`,
  );
  for (const s of d.scores) {
    const perChange = s.delaysByChange
      .map((c) => `${c.at}: ${c.meanDelay === null ? '-' : Math.round(c.meanDelay)} (${c.detected}/${d.seeds.length})`)
      .join(', ');
    const delay = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
    console.log(
      `  ${pad(s.stream, 22)}${pad(s.detector, 14)}${pad(s.changes ? `${s.detected}/${s.changes}` : '-', 10)}${pad(delay(s.meanDelay), 12)}${pad(delay(s.medianDelay), 9)}${pad(perChange || '(no change points)', 58)}${s.falseAlarmsPer10k.toFixed(2)}`,
    );
  }
  console.log(`  ${d.seconds.toFixed(1)} s`);
}
