/**
 * MetricThreshold checks (TFMA's and MLflow's semantics): absolute bounds on the challenger's
 * value, and the least change against the champion, absolute or relative to the champion's value,
 * signed so that better is positive. A threshold's comparative parts are skipped without a
 * champion; its bounds still apply.
 *
 * PURE module.
 */
import type { GateMetric, MetricThreshold } from './spec.ts';
import { num } from './result.ts';

/** A model's metrics on one set of labelled rows; null when not measurable there. */
export type GateScores = Partial<Record<GateMetric, number | null>>;

/** Used when a gate's threshold list is empty: lose at most 0.02 accuracy, or at most 5% RMSE. */
export function defaultThresholds(regression: boolean): MetricThreshold[] {
  return regression ? [{ metric: 'rmse', minRelativeChange: -0.05 }] : [{ metric: 'accuracy', minAbsoluteChange: -0.02 }];
}

export const greaterIsBetter = (t: Pick<MetricThreshold, 'metric' | 'greaterIsBetter'>): boolean =>
  t.greaterIsBetter ?? t.metric === 'accuracy';

/**
 * Challenger vs champion, signed so that better is positive: absolute, and relative to the
 * champion's magnitude (a champion at 0 makes any change infinitely large, none zero).
 */
export function signedChange(metric: Pick<MetricThreshold, 'metric' | 'greaterIsBetter'>, challenger: number, champion: number) {
  const absolute = greaterIsBetter(metric) ? challenger - champion : champion - challenger;
  const relative = champion === 0 ? (absolute === 0 ? 0 : Math.sign(absolute) * Infinity) : absolute / Math.abs(champion);
  return { absolute, relative };
}

/** A change exactly at its limit passes, whatever the float rounding of the subtraction (-0.05000000000000004). */
const ROUNDING = 1e-9;

export interface ThresholdCheck {
  passed: boolean;
  lines: string[];
}

/** One threshold on one comparison; `lines` say each part's numbers and verdict. */
export function checkThreshold(t: MetricThreshold, challenger: number | null | undefined, champion?: number | null): ThresholdCheck {
  const { metric } = t;
  if (challenger === null || challenger === undefined || !Number.isFinite(challenger))
    return { passed: false, lines: [`${metric}: the challenger's could not be measured`] };
  const lines: string[] = [];
  let passed = true;
  const part = (ok: boolean, text: string) => {
    passed &&= ok;
    lines.push(`${text}: ${ok ? 'ok' : 'fails'}`);
  };
  if (t.lowerBound !== undefined) part(challenger >= t.lowerBound, `${metric} ${num(challenger)} >= lowerBound ${num(t.lowerBound)}`);
  if (t.upperBound !== undefined) part(challenger <= t.upperBound, `${metric} ${num(challenger)} <= upperBound ${num(t.upperBound)}`);
  if (t.minAbsoluteChange === undefined && t.minRelativeChange === undefined) return { passed, lines };
  if (champion === null || champion === undefined || !Number.isFinite(champion)) {
    lines.push(`${metric} change vs the champion: no champion value to compare with, not judged`);
    return { passed, lines };
  }
  const change = signedChange(t, challenger, champion);
  const versus = `${metric} challenger ${num(challenger)} vs champion ${num(champion)}`;
  if (t.minAbsoluteChange !== undefined)
    part(
      change.absolute >= t.minAbsoluteChange - ROUNDING,
      `${versus}: change ${num(change.absolute)} >= minAbsoluteChange ${num(t.minAbsoluteChange)}`,
    );
  if (t.minRelativeChange !== undefined)
    part(
      change.relative >= t.minRelativeChange - ROUNDING,
      `${versus}: relative change ${num(change.relative)} >= minRelativeChange ${num(t.minRelativeChange)}`,
    );
  return { passed, lines };
}

/** Every threshold (the defaults when the list is empty) on the two models' scores; passes when all do. */
export function checkThresholds(
  thresholds: readonly MetricThreshold[],
  regression: boolean,
  challenger: GateScores,
  champion?: GateScores,
): ThresholdCheck {
  const checks = (thresholds.length ? thresholds : defaultThresholds(regression)).map((t) =>
    checkThreshold(t, challenger[t.metric], champion?.[t.metric]),
  );
  return { passed: checks.every((c) => c.passed), lines: checks.flatMap((c) => c.lines) };
}
