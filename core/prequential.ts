/**
 * Prequential (test-then-train) evaluation of retraining strategies over a labelled stream cut
 * into windows, for bench/drift-eval/index.ts and bench/automl/online.ts. PURE: no tfjs, no I/O;
 * the models are behind callbacks.
 *
 * Each window is first predicted by the model in service, and scored; its labels then arrive and
 * the strategy decides whether to retrain before the next window. A model is named by the last
 * window it learned from (-1: the initial model, trained before the stream starts), so strategies
 * that retrain at the same point share one model.
 *
 * Perennial's strategy is the lifecycle's decision loop without Temporal: one monitoring cycle per
 * window builds its MonitoringSummary with core/monitoring-cycle.ts, as the monitor activity
 * does (performance on the window's labels, input drift against the serving model's training profile once enough predictions
 * arrived, detectors on the error stream, new labels since the last training) and judges it with
 * core/policy.ts evaluatePolicies; a firing rule starts a retrain and the cooldown, and the
 * challenger serves only if it passes the promotion gate (bench/drift-eval/strategies.ts).
 */
import { freshDetectors, summarizeCycle, type CycleInput } from './monitoring-cycle.ts';
import { parseDuration } from './duration.ts';
import type { MonitoringSummary } from './monitoring.ts';
import { compileRules, evaluatePolicies, initialPolicyState, startCooldown, type FiredRule, type PolicyState } from './policy.ts';
import type { ModelSpec } from './spec.ts';
import type { Row } from './validation.ts';

export type { Row };

// ---------------------------------------------------------------------------------------------
// windows

export interface StreamWindow<R> {
  /** The part of the stream the window belongs to (e.g. "Seattle", "2001-03"). */
  segment: string;
  /** Position of the window within its segment, from 0. */
  index: number;
  rows: R[];
}

/**
 * Windows of `days` days, counted from the first day of each segment (a segment is a run of
 * consecutive rows with the same segmentOf, e.g. one city). A segment's last window covering fewer
 * than days / 2 days joins the window before it, so no window is too small to score.
 * Throws a RangeError when days go backwards within a segment or `days` is not positive.
 */
export function dayWindows<R>(
  rows: readonly R[],
  options: { days: number; dayOf: (row: R) => number; segmentOf: (row: R) => string },
): StreamWindow<R>[] {
  const { days, dayOf, segmentOf } = options;
  if (!(days > 0)) throw new RangeError(`dayWindows: days must be positive, got ${days}`);
  const out: StreamWindow<R>[] = [];
  for (const segment of consecutiveWindows(rows, segmentOf)) {
    const first = dayOf(segment.rows[0]);
    const windows: StreamWindow<R>[] = [];
    let previousDay = first;
    for (const row of segment.rows) {
      const day = dayOf(row);
      if (day < previousDay) throw new RangeError(`dayWindows: day ${day} comes after day ${previousDay} in segment ${segment.segment}`);
      previousDay = day;
      const index = Math.floor((day - first) / days);
      if (windows.at(-1)?.index !== index) windows.push({ segment: segment.segment, index, rows: [] });
      windows.at(-1)!.rows.push(row);
    }
    const last = windows.at(-1)!;
    if (windows.length > 1 && previousDay - (first + last.index * days) + 1 < days / 2) {
      windows.pop();
      windows.at(-1)!.rows.push(...last.rows);
    }
    // Renumber: windows skipped over by a gap in the data would otherwise leave holes.
    windows.forEach((w, i) => out.push({ ...w, index: i }));
  }
  return out;
}

/** Runs of consecutive rows with the same key, in order (calendar months, cities, ...). */
export function consecutiveWindows<R>(rows: readonly R[], keyOf: (row: R) => string): StreamWindow<R>[] {
  const out: StreamWindow<R>[] = [];
  for (const row of rows) {
    const key = keyOf(row);
    const current = out.at(-1);
    if (current?.segment === key) current.rows.push(row);
    else out.push({ segment: key, index: 0, rows: [row] });
  }
  return out;
}

/** The training window `{kind: lastRows, rows: n}`: the most recent n labelled rows. */
export function lastRows<R>(labelled: readonly R[], n: number): R[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`lastRows: n must be a positive integer, got ${n}`);
  return labelled.slice(Math.max(0, labelled.length - n));
}

// ---------------------------------------------------------------------------------------------
// strategies

/** The model that served the first window: it learned the data before the stream. */
export const INITIAL_MODEL = 'initial';
/** The model that learned the whole training window ending with window w (a scheduled retrain's). */
export const trainedThrough = (w: number) => `through ${w}`;

export interface WindowScore {
  window: number;
  /** The model that served the window (a name such as INITIAL_MODEL or trainedThrough(w)). */
  model: string;
  n: number;
  correct: number;
}

export interface PrequentialRun {
  scores: WindowScore[];
  /** Windows after which the strategy retrained (never the last window: nothing is left to serve). */
  retrainsAfter: number[];
  /** The retrains whose model replaced the one in service. */
  promotionsAfter: number[];
}

/** A strategy's answer after a window: no retrain (false), or a retrain and the model that serves next (the same one when the challenger lost). */
export type Retrain = false | { serves: string };

/**
 * Test-then-train over `windowCount` windows: `serve(model, w)` predicts window w with the model
 * in service and scores it; `retrainAfter(w, outcome, model)` then decides whether to retrain
 * and which model serves from window w + 1 on. Not asked after the last window.
 */
export async function prequential<O extends { n: number; correct: number }>(
  windowCount: number,
  serve: (model: string, window: number) => Promise<O>,
  retrainAfter: (window: number, outcome: O, model: string) => Retrain | Promise<Retrain>,
): Promise<PrequentialRun> {
  const scores: WindowScore[] = [];
  const retrainsAfter: number[] = [];
  const promotionsAfter: number[] = [];
  let model = INITIAL_MODEL;
  for (let w = 0; w < windowCount; w++) {
    const outcome = await serve(model, w);
    scores.push({ window: w, model, n: outcome.n, correct: outcome.correct });
    const retrain = w < windowCount - 1 ? await retrainAfter(w, outcome, model) : false;
    if (!retrain) continue;
    retrainsAfter.push(w);
    if (retrain.serves !== model) promotionsAfter.push(w);
    model = retrain.serves;
  }
  return { scores, retrainsAfter, promotionsAfter };
}

/** Retrain on schedule after every `every`-th window (every = 1: after each window), always promoting the new model. */
export const everyWindows = (every: number) => {
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`everyWindows: every must be a positive integer, got ${every}`);
  return (window: number): Retrain => ((window + 1) % every === 0 ? { serves: trainedThrough(window) } : false);
};

/** Correct / scored rows over the whole stream (NaN when nothing was scored). */
export function streamAccuracy(scores: readonly WindowScore[]): number {
  const n = scores.reduce((a, s) => a + s.n, 0);
  return scores.reduce((a, s) => a + s.correct, 0) / n;
}

/** Per window, the accuracy over it and the `width - 1` windows before it (row-weighted), for a readable plot. */
export function rollingAccuracy(scores: readonly WindowScore[], width: number): number[] {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`rollingAccuracy: width must be a positive integer, got ${width}`);
  return scores.map((_, i) => streamAccuracy(scores.slice(Math.max(0, i - width + 1), i + 1)));
}

export interface AnchorComparison {
  accuracy: number;
  /** Accuracy minus the anchor's, in percentage points. */
  gapPoints: number;
  /**
   * Standard error of gapPoints, paired by window (both strategies scored the same rows): the
   * ratio-estimator (cluster) standard error over windows, sqrt(W / (W - 1) * sum_w e_w^2) / N with
   * e_w = d_w - n_w * gap, d_w the difference of correct predictions in window w. 0 for the anchor.
   */
  gapSePoints: number;
  retrains: number;
  promotions: number;
  /** Retrains as a share of the anchor's (NaN when the anchor never retrains). */
  retrainShare: number;
}

/** Each strategy's stream accuracy and retrains against the anchor's, measured on the same windows. */
export function compareWithAnchor(runs: Record<string, PrequentialRun>, anchor: string): Record<string, AnchorComparison> {
  const base = runs[anchor];
  if (!base) throw new RangeError(`compareWithAnchor: no run named ${anchor}`);
  const baseAccuracy = streamAccuracy(base.scores);
  return Object.fromEntries(
    Object.entries(runs).map(([name, run]) => {
      const accuracy = streamAccuracy(run.scores);
      return [
        name,
        {
          accuracy,
          gapPoints: 100 * (accuracy - baseAccuracy),
          gapSePoints: 100 * pairedGapSe(run.scores, base.scores),
          retrains: run.retrainsAfter.length,
          promotions: run.promotionsAfter.length,
          retrainShare: run.retrainsAfter.length / base.retrainsAfter.length,
        },
      ];
    }),
  );
}

/** See AnchorComparison.gapSePoints (as a share, not in points). */
function pairedGapSe(scores: readonly WindowScore[], anchor: readonly WindowScore[]): number {
  if (scores.length !== anchor.length || scores.some((s, i) => s.n !== anchor[i].n))
    throw new RangeError('compareWithAnchor: runs must score the same windows');
  const w = scores.length;
  if (w < 2) return NaN;
  const n = scores.reduce((a, s) => a + s.n, 0);
  const diffs = scores.map((s, i) => s.correct - anchor[i].correct);
  const gap = diffs.reduce((a, b) => a + b, 0) / n;
  const sumSquares = diffs.reduce((a, d, i) => a + (d - scores[i].n * gap) ** 2, 0);
  return Math.sqrt((w / (w - 1)) * sumSquares) / n;
}

// ---------------------------------------------------------------------------------------------
// Perennial's policies, one monitoring cycle per window

/** What the serving model did with one window, and the labels that came back. */
export interface ServedWindow {
  rows: Row[];
  truth: string[];
  predicted: string[];
  probabilities: Array<Record<string, number>>;
}

/** Per rule, how its cycles went: fired, breached without firing (sensitivity or cooldown), not measurable. */
export interface RuleTally {
  fired: number;
  heldBack: number;
  unmeasured: number;
}

export interface CycleResult {
  summary: MonitoringSummary;
  fired: FiredRule[];
  notes: string[];
}

/**
 * The lifecycle's monitoring and policy decisions for one model, cycle by cycle (see the module
 * comment). Time: cycle c happens at c * monitoring.interval, so the policies' cooldown counts
 * cycles (cooldown / interval of them); with one cycle per window, that many windows.
 */
export class PolicyMonitor {
  readonly intervalMs: number;
  readonly tally: Record<string, RuleTally>;
  private policy: PolicyState = initialPolicyState();
  private detectors = freshDetectors();
  /** Predictions since the last drift test: the cursor carries over a new champion, as in activities/monitor.ts. */
  private pendingDrift: Array<{ row: Row; predicted: string; probabilities: Record<string, number>; model: string }> = [];
  private cycle = 0;
  private championCycle = 0;
  /** Labelled rows since the serving model's training data ended. */
  private newLabels = 0;

  constructor(private readonly spec: ModelSpec) {
    this.intervalMs = parseDuration(spec.monitoring.interval);
    this.tally = Object.fromEntries(compileRules(spec.policies).map((r) => [r.name, { fired: 0, heldBack: 0, unmeasured: 0 }]));
  }

  /** One monitoring cycle after window `served` of model `model` (whose training profile is `profile`); did a rule fire? */
  observe(served: ServedWindow, model: string, profile: CycleInput['profile']): CycleResult {
    this.cycle += 1;
    this.championCycle += 1;
    this.newLabels += served.truth.length;
    served.rows.forEach((row, i) =>
      this.pendingDrift.push({ row, predicted: served.predicted[i], probabilities: served.probabilities[i], model }),
    );
    const minRows = this.spec.policies.drift?.minRows ?? this.spec.monitoring.drift.minRows;
    const tested = this.pendingDrift.length >= minRows ? this.pendingDrift.slice(-this.spec.monitoring.maxRows) : undefined;
    if (tested) this.pendingDrift = [];

    // The same arithmetic as the monitor activity, on this window's labels (explicit feedback).
    const { summary, detectors } = summarizeCycle({
      spec: this.spec,
      policies: this.spec.policies,
      cycle: this.championCycle,
      championVersion: model,
      at: new Date(this.nowMs()).toISOString(),
      profile,
      feedback: served.truth.map((label, i) => ({
        predicted: served.predicted[i],
        feedback: { kind: 'label', label },
        probabilities: served.probabilities[i],
        features: served.rows[i],
      })),
      detectors: this.detectors,
      window: tested?.map((p) => ({ version: p.model, features: p.row, label: p.predicted, probabilities: p.probabilities })),
      pendingRows: this.pendingDrift.length,
      newLabels: this.newLabels,
      newRows: served.rows.length,
    });
    this.detectors = detectors;
    const verdict = evaluatePolicies(this.spec.policies, summary, this.policy, { nowMs: this.nowMs() });
    this.policy = verdict.state;
    this.count(verdict.fired, verdict.notes);
    return { summary, fired: verdict.fired, notes: verdict.notes };
  }

  /**
   * A retrain started (as in the lifecycle's startRetrain): the cooldown starts, and new labels
   * count from its training data on, whether or not its challenger is promoted.
   */
  retrainStarted(): void {
    this.policy = startCooldown(this.spec.policies, this.policy, this.nowMs());
    this.newLabels = 0;
  }

  /** The challenger was promoted and serves from the next window: it is judged afresh (detectors, cycle count and rule windows restart). */
  promoted(): void {
    this.policy = { ...this.policy, windows: {} };
    this.newChampion();
  }

  /**
   * An online update (core/online.ts) started: new labels count from its training data on, but
   * it is no retrain for the policies, so no cooldown starts (workflows/lifecycle/model-entity.ts).
   */
  updateStarted(): void {
    this.newLabels = 0;
  }

  /**
   * An online update was promoted: a new champion version, so fresh detectors and cycle count as
   * the monitor activity gives any, but the rules' breaches on the model it continues still count.
   */
  updatePromoted(): void {
    this.newChampion();
  }

  private newChampion(): void {
    this.detectors = freshDetectors();
    this.championCycle = 0;
  }

  private nowMs(): number {
    return this.cycle * this.intervalMs;
  }

  /** Reads evaluatePolicies' notes back into per-rule counts (core/policy.ts writes them in these forms). */
  private count(fired: FiredRule[], notes: string[]): void {
    for (const f of fired) this.tally[f.rule].fired += 1;
    for (const [name, t] of Object.entries(this.tally)) {
      if (notes.some((n) => n.startsWith(`${name}: `))) t.unmeasured += 1;
      if (notes.some((n) => n.startsWith(`${name} breached in `))) t.heldBack += 1;
    }
    const suppressed = notes.find((n) => n.startsWith('cooldown until '))?.replace(/^.* suppressed: /, '');
    for (const name of suppressed?.split(', ') ?? []) if (this.tally[name]) this.tally[name].heldBack += 1;
  }
}
