/**
 * The slices gate: challenger and champion per value of chosen columns on the recent holdout; a
 * challenger may not lose more than the thresholds allow on any slice with at least minRows rows.
 * Smaller slices are counted, not judged: their metrics are noise.
 *
 * PURE module.
 */
import type { z } from 'zod';
import type { SliceGate } from './spec.ts';
import { gateMetricKey, skippedGate, type GateResult } from './result.ts';
import { checkThresholds } from './thresholds.ts';
import { scoreMetrics, type ScoredRows } from './older-data.ts';

export type SliceSettings = z.infer<typeof SliceGate>;

export interface ScoredSlice extends ScoredRows {
  column: string;
  /** The column's value as text; missing values form the slice "(missing)". */
  value: string;
}

/** A slice's name in metric keys: MLflow keys allow letters, digits, spaces and _ - . : / only. */
export const sliceKey = (column: string, value: string) => `${column}:${value}`.replace(/[^\w\- .:]/g, '_');

export function judgeSlices(settings: SliceSettings, regression: boolean, slices: readonly ScoredSlice[]): GateResult {
  const judged = slices.filter((s) => s.rows >= settings.minRows);
  const metrics = Object.assign(
    {},
    ...judged.map((s) => scoreMetrics(gateMetricKey('slices', `${sliceKey(s.column, s.value)}.`), s)),
  ) as Record<string, number>;
  const small = settings.columns.flatMap((column) => {
    const below = slices.filter((s) => s.column === column && s.rows < settings.minRows);
    const rows = below.reduce((n, s) => n + s.rows, 0);
    return below.length
      ? [`${column}: ${below.length} slice(s) with fewer than minRows ${settings.minRows} rows not judged (${rows} rows)`]
      : [];
  });
  if (judged.length === 0) {
    const skipped = skippedGate('slices', `no slice has minRows ${settings.minRows} holdout rows: not judged`);
    skipped.lines.push(...small);
    return skipped;
  }
  const checks = judged.map((s) => ({ slice: s, ...checkThresholds(settings.thresholds, regression, s.challenger, s.champion) }));
  const failed = checks.filter((c) => !c.passed);
  return {
    gate: 'slices',
    passed: failed.length === 0,
    lines: [
      `${judged.length} slice(s) judged, ${failed.length} failed`,
      // Failed slices first: they are the reason the gate fails.
      ...[...failed, ...checks.filter((c) => c.passed)].map(
        (c) => `${c.slice.column}=${c.slice.value} (${c.slice.rows} rows): ${c.passed ? 'ok' : 'fails'}: ${c.lines.join('; ')}`,
      ),
      ...small,
    ],
    metrics,
  };
}
