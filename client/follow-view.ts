/**
 * How `perennial follow` shows a running retrain: progress bars in a terminal, plain lines
 * otherwise (one line per change, no ANSI, for logs and pipes). Only rendering lives here: the
 * polling (client/follow.ts) hands each view what it last saw, as a FollowFrame.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Decision, SweepStatus } from '../core/messages.ts';

export interface FollowedRetrain {
  model: string;
  workflowId: string;
  /** The retrain's sequence number within the model's lifecycle. */
  n: number;
  /** Why it runs, when the lifecycle said so. */
  trigger?: string;
}

/** What the last poll saw. Fields stay as they were when a query did not answer. */
export interface FollowFrame {
  stage?: string;
  /** The retrain's decisions so far (they only ever grow). */
  decisions: Decision[];
  sweep?: SweepStatus;
  /** When `sweep` was read (ms): the ETA counts down from there. */
  sweepReadAt?: number;
  /** Why the last poll got no answer (a worker restarting, a continue-as-new...); cleared by the next answer. */
  trouble?: string;
}

/** How following ended: what the retrain decided or how it failed, or the person stopped following. */
export type FollowEnd = { outcome: string; reason: string; failed: boolean } | 'stopped';

/** Where a view's output goes: process.stdout, or a test's stand-in. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface FollowView {
  start(retrain: FollowedRetrain): void;
  show(frame: FollowFrame, now: number): void;
  /** The last line (the outcome, or why following stopped); the view is done after it. */
  finish(line: string): void;
}

// ---- pure pieces: ETA, durations, lines ------------------------------------------------------

/**
 * How long the sweep has left, in ms: the mean time per epoch of the trial rungs finished so far
 * × the epochs the rest of the budget trains ÷ the sweep's parallelism, counted down from when
 * the progress was read, and never past the sweep's wall-time budget. Undefined until a first
 * rung has finished (nothing to measure by), and while the sweep waits for a training permit.
 */
export function sweepEtaMs(sweep: SweepStatus, readAt: number, now = readAt): number | undefined {
  if (sweep.permit || sweep.epochsDone === 0) return undefined;
  const perEpoch = sweep.rungMs / sweep.epochsDone;
  const left = (perEpoch * (sweep.epochsPlanned - sweep.epochsDone)) / sweep.parallelism - (now - readAt);
  const untilWallTime = sweep.wallTimeEndsAt ? Date.parse(sweep.wallTimeEndsAt) - now : Infinity;
  return Math.max(0, Math.min(left, untilWallTime));
}

/** "45s", "3m 20s", "1h 05m". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "val_accuracy 0.8123 (trial 4)", or "none yet". */
function bestText(sweep: SweepStatus): string {
  return sweep.best === undefined || sweep.bestObjective === undefined
    ? 'none yet'
    : `${sweep.metric} ${sweep.bestObjective.toFixed(4)} (trial ${sweep.best})`;
}

/** One plain line for the sweep's progress; its ETA as at `readAt`. */
export function sweepLine(sweep: SweepStatus, readAt: number): string {
  if (sweep.permit) return `sweep: ${sweep.permit}`;
  const eta = sweepEtaMs(sweep, readAt);
  return [
    `sweep: ${sweep.trialsDone}/${sweep.maxTrials} trials done`,
    `${sweep.rungsDone}/${sweep.rungsPlanned} trial rungs`,
    `best ${bestText(sweep)}`,
    ...(eta === undefined ? [] : [`ETA ${formatDuration(eta)}`]),
  ].join(', ');
}

function decisionLine(d: Decision): string {
  return `  ${d.what}${d.reasons.length ? ` (${d.reasons.join('; ')})` : ''}`;
}

const startLine = (r: FollowedRetrain) =>
  `following retrain #${r.n} of ${r.model} (${r.workflowId})${r.trigger ? `, trigger: ${r.trigger}` : ''}`;

export function endLine(r: FollowedRetrain, end: FollowEnd): string {
  if (end === 'stopped')
    return `stopped following retrain #${r.n} of ${r.model}; it goes on (perennial follow ${r.model} picks it up again)`;
  return `retrain #${r.n} of ${r.model} ${end.failed ? end.outcome : `ended: ${end.outcome}`}${end.reason ? ` (${end.reason})` : ''}`;
}

const troubleLine = (trouble: string) => `no answer from the retrain (${trouble}); trying again`;

// ---- plain lines ------------------------------------------------------------------------------

/** One line per change: the stage, each decision, the sweep's progress, a query that failed. */
export class PlainView implements FollowView {
  private stage?: string;
  private decisions = 0;
  private sweep?: string;
  private trouble?: string;

  constructor(private readonly out: Output) {}

  start(retrain: FollowedRetrain): void {
    this.out.write(`${startLine(retrain)}\n`);
  }

  show(frame: FollowFrame, now: number): void {
    const lines: string[] = [];
    if (frame.trouble && frame.trouble !== this.trouble) lines.push(troubleLine(frame.trouble));
    this.trouble = frame.trouble;
    for (const d of frame.decisions.slice(this.decisions)) lines.push(decisionLine(d));
    this.decisions = Math.max(this.decisions, frame.decisions.length);
    if (frame.stage !== undefined && frame.stage !== this.stage) lines.push(`stage: ${(this.stage = frame.stage)}`);
    // A change of the progress itself: an ETA that moves while nothing else did is no change.
    const sweep = frame.sweep && JSON.stringify(frame.sweep);
    if (frame.sweep && sweep !== this.sweep) lines.push(sweepLine(frame.sweep, frame.sweepReadAt ?? now));
    this.sweep = sweep;
    for (const line of lines) this.out.write(`${line}\n`);
  }

  finish(line: string): void {
    this.out.write(`${line}\n`);
  }
}

// ---- progress bars ----------------------------------------------------------------------------

/**
 * A status line (the stage, or why the retrain does not answer) and, once the sweep is seen, a
 * bar of trials done and one of trial rungs with the ETA; decisions and stage changes scroll above.
 */
export class BarView implements FollowView {
  private readonly bars: MultiBar;
  private status?: SingleBar;
  private trials?: SingleBar;
  private rungs?: SingleBar;
  private stage?: string;
  private stageSince = 0;
  private decisions = 0;

  constructor(private readonly out: Output) {
    this.bars = new MultiBar({
      stream: out as NodeJS.WritableStream,
      hideCursor: true,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      barsize: 30,
      fps: 4,
      format: '{label} |{bar}| {value}/{total} {detail}',
    });
  }

  start(retrain: FollowedRetrain): void {
    this.bars.log(`${startLine(retrain)}\n`);
    this.status = this.bars.create(1, 0, { text: 'stage: ?' }, { format: '{text}' });
  }

  show(frame: FollowFrame, now: number): void {
    for (const d of frame.decisions.slice(this.decisions)) this.bars.log(`${decisionLine(d)}\n`);
    this.decisions = Math.max(this.decisions, frame.decisions.length);
    if (frame.stage !== undefined && frame.stage !== this.stage) {
      this.bars.log(`stage: ${(this.stage = frame.stage)}\n`);
      this.stageSince = now;
    }
    const stage = this.stage === undefined ? 'stage: ?' : `${this.stage} for ${formatDuration(now - this.stageSince)}`;
    this.status?.update({ text: frame.trouble ? troubleLine(frame.trouble) : stage });
    if (frame.sweep) this.showSweep(frame.sweep, frame.sweepReadAt ?? now, now);
  }

  private showSweep(sweep: SweepStatus, readAt: number, now: number): void {
    this.trials ??= this.bars.create(sweep.maxTrials, 0, { label: 'trials', detail: '' });
    this.rungs ??= this.bars.create(sweep.rungsPlanned, 0, { label: 'rungs ', detail: '' });
    this.trials.setTotal(sweep.maxTrials);
    this.trials.update(sweep.trialsDone, { detail: `done, best ${bestText(sweep)}` });
    this.rungs.setTotal(sweep.rungsPlanned);
    const eta = sweepEtaMs(sweep, readAt, now);
    this.rungs.update(sweep.rungsDone, {
      detail: sweep.permit ? `(${sweep.permit})` : `trained, ETA ${eta === undefined ? '-' : formatDuration(eta)}`,
    });
  }

  finish(line: string): void {
    // Log lines wait for the next redraw: drawn once more, then the bars stop where they are.
    this.bars.update();
    this.bars.stop();
    this.out.write(`${line}\n`);
  }
}

/** Bars in a terminal, lines anywhere else. */
export function followView(out: Output): FollowView {
  return out.isTTY ? new BarView(out) : new PlainView(out);
}
