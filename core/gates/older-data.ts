/**
 * The older-data gate: challenger and champion on a reference set of older labelled records (the
 * champion's training period, or a "golden" source), so a challenger that learned the new data by
 * forgetting the old is stopped before any traffic.
 *
 * PURE module.
 */
import type { z } from 'zod';
import type { OlderDataGate } from './spec.ts';
import { gateMetricKey, num, skippedGate, type GateResult } from './result.ts';
import { checkThresholds, type GateScores } from './thresholds.ts';

export type OlderDataSettings = z.infer<typeof OlderDataGate>;

/** Both models scored on one set of labelled rows; no champion on a model's first retrain. */
export interface ScoredRows {
  rows: number;
  challenger: GateScores;
  champion?: GateScores;
}

/** "accuracy 0.7120, log_loss 0.8100" */
export const describeScores = (scores: GateScores): string =>
  Object.entries(scores)
    .map(([metric, value]) => `${metric} ${value === null || value === undefined ? 'n/a' : num(value)}`)
    .join(', ');

/** The scores as metrics under `prefix`: `<prefix>challenger.accuracy`, `<prefix>champion.accuracy`, ... */
export function scoreMetrics(prefix: string, scored: ScoredRows): Record<string, number> {
  const out: Record<string, number> = { [`${prefix}rows`]: scored.rows };
  for (const [who, scores] of [
    ['challenger', scored.challenger],
    ['champion', scored.champion],
  ] as const)
    for (const [metric, value] of Object.entries(scores ?? {}))
      if (value !== null && value !== undefined && Number.isFinite(value)) out[`${prefix}${who}.${metric}`] = value;
  return out;
}

/** `reference` says which records these were, for the reader ("records 1..731 of the champion's training period"). */
export function judgeOlderData(settings: OlderDataSettings, regression: boolean, reference: string, scored: ScoredRows): GateResult {
  const metrics = scoreMetrics(gateMetricKey('olderData', ''), scored);
  if (scored.rows < settings.minRows)
    return skippedGate(
      'olderData',
      `only ${scored.rows} reference records (${reference}), fewer than minRows ${settings.minRows}: not judged`,
      metrics,
    );
  const check = checkThresholds(settings.thresholds, regression, scored.challenger, scored.champion);
  return {
    gate: 'olderData',
    passed: check.passed,
    lines: [
      `${scored.rows} reference records (${reference}): challenger ${describeScores(scored.challenger)}; ${
        scored.champion ? `champion ${describeScores(scored.champion)}` : 'no champion'
      }`,
      ...check.lines,
    ],
    metrics,
  };
}
