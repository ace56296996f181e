/**
 * Successive halving for the sweep workflow. PURE and deterministic: every decision is taken
 * on a whole rung's results and ranks them by a total order, so it never depends on which trial
 * happened to finish first.
 */
import type { SweepSpec } from './search-space.ts';

/** Epochs each rung trains to: minEpochs * eta^k while below the cap, then the cap itself. */
export function rungs(sweep: SweepSpec): number[] {
  const max = sweep.budget.maxEpochsPerTrial;
  const stopping = sweep.earlyStopping;
  if (stopping.kind === 'none') return [max];
  const epochs: number[] = [];
  for (let e = stopping.minEpochs; e < max; e *= stopping.reductionFactor) epochs.push(e);
  return [...epochs, max];
}

/**
 * Trials proposed together: eta^(rungs - 1), so that a full wave promotes exactly one trial to
 * the top rung; at least `parallelism` (no idle lanes on the first rung), at most maxTrials.
 */
export function waveSize(sweep: SweepSpec): number {
  const stopping = sweep.earlyStopping;
  const full = stopping.kind === 'asha' ? stopping.reductionFactor ** (rungs(sweep).length - 1) : 1;
  return Math.min(sweep.budget.maxTrials, Math.max(sweep.parallelism, full));
}

/**
 * The work a sweep's whole trial budget trains, wave by wave: trial rungs, and the epochs they
 * train (a rung trains from the previous rung's epochs to its own). The wall-time budget may stop
 * the sweep before; this is what it does when nothing stops it.
 */
export function plannedWork(sweep: SweepSpec): { rungs: number; epochs: number } {
  const epochs = rungs(sweep);
  const eta = sweep.earlyStopping.kind === 'asha' ? sweep.earlyStopping.reductionFactor : 1;
  const planned = { rungs: 0, epochs: 0 };
  let left = sweep.budget.maxTrials;
  while (left > 0) {
    const wave = Math.min(waveSize(sweep), left);
    left -= wave;
    // As runSweep does: every rung promotes at least one trial, so each wave reaches the top rung.
    for (let rung = 0, alive = wave; rung < epochs.length; rung++, alive = Math.max(1, Math.floor(alive / eta))) {
      planned.rungs += alive;
      planned.epochs += alive * (epochs[rung] - (rung === 0 ? 0 : epochs[rung - 1]));
    }
  }
  return planned;
}

/** A rung is scored on its last few epochs, not the last alone (see rungObjective). */
export const OBJECTIVE_EPOCHS = 3;

/**
 * A rung's objective from the metric of each epoch it trained, in order: the mean over the second
 * half of those epochs, at most the last OBJECTIVE_EPOCHS. Validation accuracy on a few hundred
 * rows moves by a point or more from one epoch to the next; ranking trials on a single epoch
 * would promote whichever happened to be up at the rung's end. The first half is left out so
 * that a short rung is still judged on the model it ends with.
 */
export function rungObjective(perEpoch: number[]): number {
  if (perEpoch.length === 0) throw new RangeError('rungObjective: the rung trained no epoch');
  const tail = perEpoch.slice(-Math.max(1, Math.min(OBJECTIVE_EPOCHS, Math.floor(perEpoch.length / 2))));
  return tail.reduce((sum, v) => sum + v, 0) / tail.length;
}

/** One trial's result at one rung; `value` is oriented so that higher is better (see orient). */
export interface RungResult {
  trial: number;
  value: number;
  paramCount: number;
  latencyMs: number;
}

/** A metric value turned higher-is-better. */
export function orient(value: number, direction: 'maximize' | 'minimize'): number {
  return direction === 'maximize' ? value : -value;
}

/** An oriented value for ranking: NaN (a diverged trial) ranks below everything. */
export const rankValue = (v: number) => (Number.isNaN(v) ? -Infinity : v);

/**
 * How equal objective values are ordered. `deterministic`: the smaller model, then the earlier
 * trial, so the same seed always gives the same challenger. `latency` (sweeps recorded before
 * that) put the faster model before the earlier trial, but measured latency depends on the
 * machine's load; it belongs in a gate, not in the choice.
 */
export type TieBreak = 'deterministic' | 'latency';

/** Best first: higher value, then by the tie-break. */
function comparer(tieBreak: TieBreak) {
  return (a: RungResult, b: RungResult): number =>
    rankValue(b.value) - rankValue(a.value) ||
    a.paramCount - b.paramCount ||
    (tieBreak === 'latency' ? a.latencyMs - b.latencyMs : 0) ||
    a.trial - b.trial;
}

/** Trials promoted from a rung: the best floor(n / eta), at least one, best first. */
export function promotions(results: RungResult[], eta: number, tieBreak: TieBreak = 'deterministic'): number[] {
  if (results.length === 0) return [];
  const keep = Math.max(1, Math.floor(results.length / eta));
  return [...results]
    .sort(comparer(tieBreak))
    .slice(0, keep)
    .map((r) => r.trial);
}

/** The best trial among those that reached the highest rung anyone reached (`byRung[k]`: rung k's results). */
export function bestTrial(byRung: RungResult[][], tieBreak: TieBreak = 'deterministic'): RungResult | undefined {
  for (let rung = byRung.length - 1; rung >= 0; rung--) {
    if (byRung[rung].length > 0) return [...byRung[rung]].sort(comparer(tieBreak))[0];
  }
  return undefined;
}
