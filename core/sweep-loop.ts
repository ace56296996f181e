/**
 * The sweep's algorithm, apart from how its steps run: the sweep workflow drives it with
 * Temporal activities, the benchmark with the same activities called in-process. Pure and
 * deterministic: every decision follows from the seed and the results, never from timing
 * (except the wall-time budget, which stops it early).
 *
 * Successive halving runs in waves: a wave's trials all train to the first rung, the best
 * 1/eta go on to the next rung, and so on. Proposals of a wave see the observations of earlier
 * waves only, and promotions wait for the whole rung, so the order in which trials finish
 * never changes the sweep.
 */
import { parseDuration } from './duration.ts';
import { proposeConfig, type Observation } from './sampling/index.ts';
import type { TrialConfig } from './search-space.ts';
import { trialConfig } from './warm-start.ts';
import type { ModelSpec } from './spec.ts';
import { bestTrial, orient, promotions, rungs as rungEpochs, type TieBreak, waveSize, type RungResult } from './sweep-plan.ts';

export interface SweepRun {
  experimentId: string;
  runId: string;
  artifactUri: string;
}

export interface TrialOutcome {
  runId: string;
  /** The objective metric at the end of this rung, as measured. */
  objective: number;
  valAccuracy: number;
  valLogLoss: number;
  paramCount: number;
  latencyMs: number;
  backend: string;
}

export interface TrialSummary {
  trial: number;
  config: TrialConfig;
  runId: string;
  /** Objective per rung reached, in rung order (as measured). */
  objective: number[];
  state: 'pruned' | 'completed';
  paramCount: number;
  latencyMs: number;
}

export interface SweepResult {
  sweepRunId: string;
  best: TrialSummary;
  trials: TrialSummary[];
  stoppedBy?: string;
  /** What the sweep left out and why (warmStart trials on a model's first retrain). */
  notes?: string[];
}

export interface RungRequest {
  sweepRun: SweepRun;
  trial: number;
  config: TrialConfig;
  rung: number;
  fromEpoch: number;
  toEpoch: number;
}

/** How the sweep's steps are carried out. */
export interface SweepSteps {
  startSweepRun(): Promise<SweepRun>;
  trainTrialRung(request: RungRequest): Promise<TrialOutcome>;
  closeTrial(input: { runId: string; state: 'pruned' | 'completed'; rungReached: number; epochs: number }): Promise<void>;
  finishSweepRun(input: { sweepRun: SweepRun; trials: TrialSummary[]; best: number; stoppedBy?: string }): Promise<void>;
  now(): number;
}

export interface SweepProgress {
  trials: number;
  /** Trial rungs finished so far: the unit of crash safety. */
  rungsDone: number;
  rungs: number[];
  best?: number;
}

export async function runSweep(
  spec: ModelSpec,
  steps: SweepSteps,
  onProgress: (p: SweepProgress) => void = () => {},
  tieBreak: TieBreak = 'deterministic',
  /** The champion that warmStart trials continue (see core/warm-start.ts planWarmStart). */
  championVersion?: string,
): Promise<SweepResult> {
  const settings = spec.training.sweep;
  const rungs = rungEpochs(settings);
  const eta = settings.earlyStopping.kind === 'asha' ? settings.earlyStopping.reductionFactor : 1;
  const deadline = steps.now() + parseDuration(settings.budget.maxWallTime);
  const trials: TrialSummary[] = [];
  const byRung: RungResult[][] = rungs.map(() => []);
  const observations: Observation[] = [];
  let rungsDone = 0;
  let stoppedBy: string | undefined;
  const report = () => onProgress({ trials: trials.length, rungsDone, rungs, best: bestTrial(byRung, tieBreak)?.trial });

  const sweepRun = await steps.startSweepRun();

  /** Trains one rung of the given trials, up to `parallelism` at once; results in the order given. */
  async function runRung(rung: number, trialIds: number[]): Promise<RungResult[]> {
    const results: RungResult[] = new Array(trialIds.length);
    let next = 0;
    const lane = async () => {
      while (next < trialIds.length) {
        const i = next++;
        const trial = trials[trialIds[i]];
        const outcome = await steps.trainTrialRung({
          sweepRun,
          trial: trial.trial,
          config: trial.config,
          rung,
          fromEpoch: rung === 0 ? 0 : rungs[rung - 1],
          toEpoch: rungs[rung],
        });
        Object.assign(trial, { runId: outcome.runId, paramCount: outcome.paramCount, latencyMs: outcome.latencyMs });
        trial.objective.push(outcome.objective);
        results[i] = {
          trial: trial.trial,
          value: orient(outcome.objective, settings.objective.direction),
          paramCount: outcome.paramCount,
          latencyMs: outcome.latencyMs,
        };
        rungsDone += 1;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.parallelism, trialIds.length) }, lane));
    return results;
  }

  const close = (trial: TrialSummary, state: TrialSummary['state'], rung: number) => {
    trial.state = state;
    return steps.closeTrial({ runId: trial.runId, state, rungReached: rung, epochs: rungs[rung] });
  };

  waves: while (trials.length < settings.budget.maxTrials) {
    if (steps.now() >= deadline) {
      stoppedBy = `wall-time budget ${settings.budget.maxWallTime} reached after ${trials.length} trials`;
      break;
    }
    const count = Math.min(waveSize(settings), settings.budget.maxTrials - trials.length);
    const wave: number[] = [];
    for (let k = 0; k < count; k++) {
      const trial = trials.length;
      trials.push({
        trial,
        config: trialConfig(proposeConfig(settings, trial, observations), championVersion),
        runId: '',
        objective: [],
        state: 'pruned',
        paramCount: 0,
        latencyMs: 0,
      });
      wave.push(trial);
    }

    let alive = wave;
    for (let rung = 0; rung < rungs.length; rung++) {
      const results = await runRung(rung, alive);
      byRung[rung].push(...results);
      // The sampler learns from every trial's first rung: the one budget all trials share.
      if (rung === 0) observations.push(...results.map((r) => ({ config: trials[r.trial].config, value: r.value })));
      const last = rung === rungs.length - 1;
      const promoted = last ? [] : promotions(results, eta, tieBreak);
      for (const r of results) if (!promoted.includes(r.trial)) await close(trials[r.trial], last ? 'completed' : 'pruned', rung);
      alive = promoted;
      if (alive.length === 0) break;
      if (steps.now() >= deadline) {
        stoppedBy = `wall-time budget ${settings.budget.maxWallTime} reached during rung ${rung + 1}`;
        for (const t of alive) await close(trials[t], 'pruned', rung);
        break waves;
      }
    }
  }

  const winner = bestTrial(byRung, tieBreak);
  if (!winner) throw new Error('the sweep finished no trial');
  await steps.finishSweepRun({ sweepRun, trials, best: winner.trial, stoppedBy });
  return { sweepRunId: sweepRun.runId, best: trials[winner.trial], trials, stoppedBy };
}
