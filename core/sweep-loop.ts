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
import type { SweepSpec, TrialConfig } from './search-space.ts';
import { trialConfig } from './warm-start.ts';
import { describeHistory, samplerPriors, type SweepHistory } from './sweep-history.ts';
import type { ModelSpec } from './spec.ts';
import { bestTrial, orient, plannedWork, promotions, rungs as rungEpochs, type TieBreak, waveSize, type RungResult } from './sweep-plan.ts';

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
  /** What the sweep left out and why (warmStart trials on a model's first retrain), and what it learned from earlier sweeps. */
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
  /**
   * Earlier sweeps' trials and the champion's configuration (spec `sweep.history`), read once the
   * sweep run exists, which records what was used. Absent: the sweep learns from itself only.
   */
  readHistory?(sweepRun: SweepRun): Promise<SweepHistory>;
  now(): number;
}

export interface SweepProgress {
  /** Trials proposed so far. */
  trials: number;
  /** Trials finished: pruned at a rung, or completed at the top one. */
  trialsDone: number;
  /** The trial budget (budget.maxTrials). */
  maxTrials: number;
  /** Trial rungs finished so far: the unit of crash safety. */
  rungsDone: number;
  /** Trial rungs the whole budget trains (core/sweep-plan.ts plannedWork). */
  rungsPlanned: number;
  /** Epochs each rung trains to. */
  rungs: number[];
  /** Epochs trained by the finished rungs, and by the whole budget. */
  epochsDone: number;
  epochsPlanned: number;
  /** How long the finished rungs took, summed over rungs (ms, on the sweep's clock): the rate an ETA needs. */
  rungMs: number;
  parallelism: number;
  /** The objective metric, and the best trial so far with its objective as measured at its highest rung. */
  metric: string;
  best?: number;
  bestObjective?: number;
  /** When the wall-time budget stops the sweep (ISO), once it trains. */
  wallTimeEndsAt?: string;
}

/** A sweep's progress before its first rung (while it waits for a training permit, too). */
export function progressAtStart(settings: SweepSpec): SweepProgress {
  const planned = plannedWork(settings);
  return {
    trials: 0,
    trialsDone: 0,
    maxTrials: settings.budget.maxTrials,
    rungsDone: 0,
    rungsPlanned: planned.rungs,
    rungs: rungEpochs(settings),
    epochsDone: 0,
    epochsPlanned: planned.epochs,
    rungMs: 0,
    parallelism: settings.parallelism,
    metric: settings.objective.metric,
  };
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
  const progress = { ...progressAtStart(settings), wallTimeEndsAt: new Date(deadline).toISOString() };
  let stoppedBy: string | undefined;
  /** Reports progress; `running` holds the results so far of a rung still training. */
  const report = (running?: { rung: number; results: RungResult[] }) => {
    const best = bestTrial(
      running ? byRung.map((done, r) => (r === running.rung ? [...done, ...running.results] : done)) : byRung,
      tieBreak,
    );
    // The best trial is at the highest rung reached, so its last objective is that rung's.
    onProgress({ ...progress, trials: trials.length, best: best?.trial, bestObjective: best && trials[best.trial].objective.at(-1) });
  };

  const sweepRun = await steps.startSweepRun();
  const history = settings.history && steps.readHistory ? await steps.readHistory(sweepRun) : undefined;
  const priors = history && settings.history ? samplerPriors(history.trials, settings.history, settings.tpe.gamma) : [];
  // The champion's hyperparameters, trained from scratch on this window (not a warm start of its weights).
  const first = history?.champion?.config;
  const notes = history
    ? [
        describeHistory(history),
        ...(history.champion ? [`first trial: the configuration of the champion v${history.champion.version}, trained from scratch`] : []),
        ...(history.championNote ? [history.championNote] : []),
      ]
    : [];

  /** Trains one rung of the given trials, up to `parallelism` at once; results in the order given. */
  async function runRung(rung: number, trialIds: number[]): Promise<RungResult[]> {
    const results: RungResult[] = new Array(trialIds.length);
    let next = 0;
    const lane = async () => {
      while (next < trialIds.length) {
        const i = next++;
        const trial = trials[trialIds[i]];
        const fromEpoch = rung === 0 ? 0 : rungs[rung - 1];
        const started = steps.now();
        const outcome = await steps.trainTrialRung({
          sweepRun,
          trial: trial.trial,
          config: trial.config,
          rung,
          fromEpoch,
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
        progress.rungsDone += 1;
        progress.epochsDone += rungs[rung] - fromEpoch;
        progress.rungMs += steps.now() - started;
        report({ rung, results: results.filter(Boolean) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.parallelism, trialIds.length) }, lane));
    return results;
  }

  const close = async (trial: TrialSummary, state: TrialSummary['state'], rung: number) => {
    trial.state = state;
    await steps.closeTrial({ runId: trial.runId, state, rungReached: rung, epochs: rungs[rung] });
    progress.trialsDone += 1;
    report();
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
        config: trial === 0 && first ? first : trialConfig(proposeConfig(settings, trial, observations, priors), championVersion),
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
  return { sweepRunId: sweepRun.runId, best: trials[winner.trial], trials, stoppedBy, ...(notes.length ? { notes } : {}) };
}
