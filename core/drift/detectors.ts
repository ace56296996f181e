/**
 * Concept-drift detectors on a stream of values, typically a model's error stream
 * (1 = the prediction was wrong, 0 = right).
 *
 * PURE module: no Node or npm imports. It is imported by Temporal workflow code, so it must stay
 * deterministic and free of I/O.
 *
 * The three detectors reproduce river 0.26.1 (`river.drift.PageHinkley`, `river.drift.ADWIN`,
 * `river.drift.binary.DDM`) operation for operation, with the same defaults:
 *
 * - Page-Hinkley: two-sided CUSUM of the deviations from the running mean (real values).
 * - ADWIN: adaptive window of exponential-histogram buckets, cut when two sub-windows' means
 *   differ by more than a Hoeffding/Bernstein-style bound (real values, usually 0/1).
 * - DDM: error rate p and its binomial standard deviation s against their recorded minimum
 *   (0/1 values only), with a warning zone.
 *
 * The detector state is a plain JSON-serialisable object (no Infinity, NaN, class instances or
 * closures), so it can travel between monitoring cycles in Temporal activity results and workflow
 * history; `updateDetector(state, x)` is a pure function of (state, x) and never mutates `state`.
 *
 * As in river, a detector that signalled drift keeps its state (e.g. ADWIN's shrunken window)
 * until the next value arrives; that next update first resets it to a fresh detector with the same
 * parameters and then processes the value.
 */
import { detectChange, insertElement } from './adwin.ts';

/** Which detector a state belongs to. */
export type DetectorKind = 'pageHinkley' | 'adwin' | 'ddm';

/** Page-Hinkley parameters; defaults (PAGE_HINKLEY_DEFAULTS) are river's. */
export interface PageHinkleyParams {
  /** Values needed before a drift can be signalled (river `min_instances`, default 30). */
  minInstances: number;
  /** Magnitude of change tolerated, subtracted (added) at every step (river `delta`, default 0.005). */
  delta: number;
  /** Detection threshold lambda on the cumulative sums (river `threshold`, default 50). */
  threshold: number;
  /** Forgetting factor applied to the cumulative sums (river `alpha`, default 1 - 0.0001). */
  alpha: number;
  /** Detect increases ('up'), decreases ('down') or both of the mean (river `mode`, default 'both'). */
  mode: 'up' | 'down' | 'both';
}

/** ADWIN parameters; defaults (ADWIN_DEFAULTS) are river's. */
export interface AdwinParams {
  /** Significance value of the cut test (river `delta`, default 0.002). */
  delta: number;
  /** Test for a cut on every `clock`-th value only (river `clock`, default 32). */
  clock: number;
  /** Buckets kept per size before the two oldest are merged (river `max_buckets`, default 5). */
  maxBuckets: number;
  /** Smallest sub-window size a cut may leave on either side (river `min_window_length`, default 5). */
  minWindowLength: number;
  /** No test until the window holds more than this many values (river `grace_period`, default 10). */
  gracePeriod: number;
}

/** DDM parameters; defaults (DDM_DEFAULTS) are river's. */
export interface DdmParams {
  /** Values needed before warnings or drift (river `warm_start`, default 30; tested once n > warm_start). */
  warmStart: number;
  /** Warning when p + s > p_min + warningThreshold * s_min (river `warning_threshold`, default 2). */
  warningThreshold: number;
  /** Drift when p + s > p_min + driftThreshold * s_min (river `drift_threshold`, default 3). */
  driftThreshold: number;
}

export const PAGE_HINKLEY_DEFAULTS: Readonly<PageHinkleyParams> = Object.freeze({
  minInstances: 30,
  delta: 0.005,
  threshold: 50,
  alpha: 1 - 0.0001,
  mode: 'both',
});

export const ADWIN_DEFAULTS: Readonly<AdwinParams> = Object.freeze({
  delta: 0.002,
  clock: 32,
  maxBuckets: 5,
  minWindowLength: 5,
  gracePeriod: 10,
});

export const DDM_DEFAULTS: Readonly<DdmParams> = Object.freeze({
  warmStart: 30,
  warningThreshold: 2,
  driftThreshold: 3,
});

interface StateBase {
  /** True when the last update signalled drift: the next update starts from a fresh detector. */
  drift: boolean;
}

/**
 * Page-Hinkley state. With m_t the running mean of x_1..x_t:
 *   sumIncrease_t = alpha * sumIncrease_{t-1} + (x_t - m_t) - delta
 *   sumDecrease_t = alpha * sumDecrease_{t-1} + (x_t - m_t) + delta
 * and drift once n >= minInstances and (mode permitting)
 *   sumIncrease_t - min_s sumIncrease_s > threshold   or   max_s sumDecrease_s - sumDecrease_t > threshold.
 */
export interface PageHinkleyState extends StateBase {
  kind: 'pageHinkley';
  params: PageHinkleyParams;
  /** Values seen since the last reset. */
  n: number;
  /** Running mean of those values (river's stats.Mean, same update order). */
  mean: number;
  sumIncrease: number;
  sumDecrease: number;
  /** Minimum of sumIncrease so far; null before the first value (river starts at +inf). */
  minIncrease: number | null;
  /** Maximum of sumDecrease so far; river starts it at -1 (not -inf), and so do we. */
  maxDecrease: number;
}

/**
 * One row of ADWIN's exponential histogram: the buckets that each summarise 2^level values,
 * oldest first, as parallel arrays of their sums and their sums of squared deviations.
 */
export interface AdwinLevel {
  totals: number[];
  variances: number[];
}

/** ADWIN state: the window as an exponential histogram plus its running statistics. */
export interface AdwinState extends StateBase {
  kind: 'adwin';
  params: AdwinParams;
  /** Number of values in the window (river `ADWIN.width`). */
  width: number;
  /** Sum of the values in the window (river `ADWIN.total`). */
  total: number;
  /** Sum of squared deviations from the window mean (river `ADWIN.variance`, not divided by width). */
  variance: number;
  /** Values seen since the last reset; a cut is tested when tick % clock === 0. */
  tick: number;
  /** levels[i] holds the buckets of size 2^i; level 0 receives new values. */
  levels: AdwinLevel[];
}

/** DDM state: running error rate and the (p, s) pair at which p + s was smallest. */
export interface DdmState extends StateBase {
  kind: 'ddm';
  params: DdmParams;
  /** Values seen since the last reset. */
  n: number;
  /** Error rate p over those values (river's stats.Mean). */
  p: number;
  /** p and s = sqrt(p (1 - p) / n) where p + s was smallest after warm-up; null before (river: None). */
  pMin: number | null;
  sMin: number | null;
  /** True while p + s > pMin + warningThreshold * sMin (and no drift). */
  warning: boolean;
}

export type DetectorState = PageHinkleyState | AdwinState | DdmState;

export interface DetectorUpdate<S extends DetectorState = DetectorState> {
  /** The new state (a fresh object; the input state is left untouched). */
  state: S;
  /** Drift signalled by this value. */
  drift: boolean;
  /** Warning zone after this value (DDM only; always false for Page-Hinkley and ADWIN). */
  warning: boolean;
}

export interface DetectorRun<S extends DetectorState = DetectorState> {
  state: S;
  /** Indices into `xs` at which drift was signalled. */
  alarms: number[];
  /** Indices into `xs` at which the warning zone was entered (DDM only). */
  warnings: number[];
}

// ---------------------------------------------------------------------------------------------
// Construction

/** A fresh detector of the given kind; missing parameters take river's defaults. */
export function createDetector(kind: 'pageHinkley', params?: Partial<PageHinkleyParams>): PageHinkleyState;
export function createDetector(kind: 'adwin', params?: Partial<AdwinParams>): AdwinState;
export function createDetector(kind: 'ddm', params?: Partial<DdmParams>): DdmState;
export function createDetector(
  kind: DetectorKind,
  params?: Partial<PageHinkleyParams> | Partial<AdwinParams> | Partial<DdmParams>,
): DetectorState;
export function createDetector(
  kind: DetectorKind,
  params: Partial<PageHinkleyParams> | Partial<AdwinParams> | Partial<DdmParams> = {},
): DetectorState {
  switch (kind) {
    case 'pageHinkley':
      return freshPageHinkley(pageHinkleyParams(params as Partial<PageHinkleyParams>));
    case 'adwin':
      return freshAdwin(adwinParams(params as Partial<AdwinParams>));
    case 'ddm':
      return freshDdm(ddmParams(params as Partial<DdmParams>));
    default:
      throw new RangeError(`createDetector: unknown detector kind ${JSON.stringify(kind)}`);
  }
}

function pageHinkleyParams(p: Partial<PageHinkleyParams>): PageHinkleyParams {
  const params = { ...PAGE_HINKLEY_DEFAULTS, ...definedOnly(p) };
  requireFinite('pageHinkley', params, ['minInstances', 'delta', 'threshold', 'alpha']);
  if (!['up', 'down', 'both'].includes(params.mode)) {
    throw new RangeError(`pageHinkley: mode must be 'up', 'down' or 'both', got ${JSON.stringify(params.mode)}`);
  }
  return params;
}

function adwinParams(p: Partial<AdwinParams>): AdwinParams {
  const params = { ...ADWIN_DEFAULTS, ...definedOnly(p) };
  requireFinite('adwin', params, ['delta', 'gracePeriod']);
  if (!(params.delta > 0 && params.delta < 1)) throw new RangeError(`adwin: delta must be in (0, 1), got ${params.delta}`);
  // clock 0 would divide by zero and a window length below 1 could empty the window (both panic in river).
  requirePositiveInteger('adwin', params, ['clock', 'maxBuckets', 'minWindowLength']);
  return params;
}

function ddmParams(p: Partial<DdmParams>): DdmParams {
  const params = { ...DDM_DEFAULTS, ...definedOnly(p) };
  requireFinite('ddm', params, ['warmStart', 'warningThreshold', 'driftThreshold']);
  return params;
}

/** `{ a: undefined }` must not override a default. */
function definedOnly<T extends object>(p: T): Partial<T> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function requireFinite<T>(who: string, params: T, keys: (keyof T & string)[]): void {
  for (const k of keys) {
    const v = params[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${who}: ${k} must be a finite number, got ${v}`);
  }
}

function requirePositiveInteger<T>(who: string, params: T, keys: (keyof T & string)[]): void {
  for (const k of keys) {
    const v = params[k];
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`${who}: ${k} must be a positive integer, got ${v}`);
  }
}

function freshPageHinkley(params: PageHinkleyParams): PageHinkleyState {
  return {
    kind: 'pageHinkley',
    params,
    drift: false,
    n: 0,
    mean: 0,
    sumIncrease: 0,
    sumDecrease: 0,
    minIncrease: null,
    maxDecrease: -1,
  };
}

function freshAdwin(params: AdwinParams): AdwinState {
  return { kind: 'adwin', params, drift: false, width: 0, total: 0, variance: 0, tick: 0, levels: [{ totals: [], variances: [] }] };
}

function freshDdm(params: DdmParams): DdmState {
  return { kind: 'ddm', params, drift: false, n: 0, p: 0, pMin: null, sMin: null, warning: false };
}

// ---------------------------------------------------------------------------------------------
// Updates

/**
 * Feed one value. Returns a new state plus whether drift (and, for DDM, a warning) was signalled.
 * Throws a RangeError for a non-finite value, or for DDM a value other than 0 or 1.
 */
export function updateDetector<S extends DetectorState>(state: S, x: number): DetectorUpdate<S> {
  const s = cloneState(state);
  step(s, x);
  return { state: s, drift: s.drift, warning: s.kind === 'ddm' ? s.warning : false };
}

/**
 * Feed a sequence of values; equivalent to calling `updateDetector` on each in turn, but clones the
 * state only once. Returns the final state and the indices (into `xs`) of the drift signals and of
 * the entries into DDM's warning zone.
 */
export function updateMany<S extends DetectorState>(state: S, xs: ArrayLike<number>): DetectorRun<S> {
  const s = cloneState(state);
  const alarms: number[] = [];
  const warnings: number[] = [];
  let warned = s.kind === 'ddm' && s.warning && !s.drift;
  for (let i = 0; i < xs.length; i++) {
    step(s, xs[i]);
    if (s.drift) alarms.push(i);
    const warning = s.kind === 'ddm' && s.warning;
    if (warning && !warned) warnings.push(i);
    warned = warning;
  }
  return { state: s, alarms, warnings };
}

/** ADWIN's estimate of the current mean: total / width, 0 for an empty window (river `estimation`). */
export function adwinEstimation(state: AdwinState): number {
  return state.width === 0 ? 0 : state.total / state.width;
}

/** Deep copy through the same plain-data shape the state has in JSON. */
function cloneState<S extends DetectorState>(state: S): S {
  if (state.kind === 'adwin') {
    return {
      ...state,
      params: { ...state.params },
      levels: state.levels.map((l) => ({ totals: [...l.totals], variances: [...l.variances] })),
    };
  }
  return { ...state, params: { ...state.params } };
}

/** Advance `s` in place by one value (callers own `s`). */
function step(s: DetectorState, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new RangeError(`${s.kind}: values must be finite numbers, got ${x}`);
  switch (s.kind) {
    case 'pageHinkley':
      return stepPageHinkley(s, x);
    case 'adwin':
      return stepAdwin(s, x);
    case 'ddm':
      return stepDdm(s, x);
    default:
      throw new RangeError(`updateDetector: unknown detector kind ${JSON.stringify((s as { kind: unknown }).kind)}`);
  }
}

/** Replace the fields of `s` with those of `fresh` (reset after a drift, as river does lazily). */
function resetInPlace<S extends DetectorState>(s: S, fresh: S): void {
  Object.assign(s, fresh);
}

// --- Page-Hinkley (river/drift/page_hinkley.py) ----------------------------------------------

function stepPageHinkley(s: PageHinkleyState, x: number): void {
  if (s.drift) resetInPlace(s, freshPageHinkley(s.params));
  const { alpha, delta, threshold, minInstances, mode } = s.params;

  // river's stats.Mean: n += 1; mean += (1 / n) * (x - mean)
  s.n += 1;
  s.mean += (1 / s.n) * (x - s.mean);
  const dev = x - s.mean;

  s.sumIncrease = alpha * s.sumIncrease + dev - delta;
  s.sumDecrease = alpha * s.sumDecrease + dev + delta;
  if (s.minIncrease === null || s.sumIncrease < s.minIncrease) s.minIncrease = s.sumIncrease;
  if (s.sumDecrease > s.maxDecrease) s.maxDecrease = s.sumDecrease;

  if (s.n >= minInstances) {
    const up = s.sumIncrease - s.minIncrease > threshold;
    const down = s.maxDecrease - s.sumDecrease > threshold;
    s.drift = mode === 'up' ? up : mode === 'down' ? down : up || down;
  }
}

// --- DDM (river/drift/binary/ddm.py) ----------------------------------------------------------

function stepDdm(s: DdmState, x: number): void {
  if (x !== 0 && x !== 1) throw new RangeError(`ddm: values must be 0 (right) or 1 (error), got ${x}`);
  if (s.drift) resetInPlace(s, freshDdm(s.params));
  const { warmStart, warningThreshold, driftThreshold } = s.params;

  s.n += 1;
  s.p += (1 / s.n) * (x - s.p);
  const sd = Math.sqrt((s.p * (1 - s.p)) / s.n);
  if (s.n <= warmStart) return; // river leaves the flags untouched during warm-up

  // river compares with ps_min = p_min + s_min (+inf before the first record).
  if (s.pMin === null || s.sMin === null || s.p + sd <= s.pMin + s.sMin) {
    s.pMin = s.p;
    s.sMin = sd;
  }
  s.warning = s.p + sd > s.pMin + warningThreshold * s.sMin;
  if (s.p + sd > s.pMin + driftThreshold * s.sMin) {
    s.drift = true;
    s.warning = false;
  }
}

// --- ADWIN (river rust_src/adwin.rs, AdaptiveWindowing): the bucket window is in adwin.ts ------

function stepAdwin(s: AdwinState, x: number): void {
  if (s.drift) resetInPlace(s, freshAdwin(s.params));
  insertElement(s, x);
  s.drift = detectChange(s);
}
