/**
 * The speed gate: prediction latency of a fixed batch, p50 and p99 over repeated timed
 * predictions, against absolute limits and against the champion measured alongside (the
 * activity alternates the two, so both see the same machine load).
 *
 * PURE module.
 */
import type { z } from 'zod';
import type { SpeedGate } from './spec.ts';
import { quantileSorted } from '../stats/quantiles.ts';
import { gateMetricKey, limitChecks, num, type GateResult } from './result.ts';

export type SpeedSettings = z.infer<typeof SpeedGate>;

export interface Latency {
  p50: number;
  p99: number;
}

/** p50 and p99 of timings in milliseconds (linear interpolation, numpy's default). */
export function latencyOf(timingsMs: readonly number[]): Latency {
  const sorted = [...timingsMs].sort((a, b) => a - b);
  return { p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99) };
}

export function judgeSpeed(settings: SpeedSettings, challengerMs: readonly number[], championMs?: readonly number[]): GateResult {
  const key = (name: string) => gateMetricKey('speed', name);
  const challenger = latencyOf(challengerMs);
  const metrics: Record<string, number> = { [key('challenger.p50_ms')]: challenger.p50, [key('challenger.p99_ms')]: challenger.p99 };
  const checks = limitChecks();
  checks.atMost('challenger p50 ms', challenger.p50, 'maxP50Ms', settings.maxP50Ms);
  checks.atMost('challenger p99 ms', challenger.p99, 'maxP99Ms', settings.maxP99Ms);
  const champion = championMs && latencyOf(championMs);
  if (champion) {
    Object.assign(metrics, { [key('champion.p50_ms')]: champion.p50, [key('champion.p99_ms')]: champion.p99 });
    for (const q of ['p50', 'p99'] as const) {
      const slowdown = champion[q] > 0 ? challenger[q] / champion[q] : Infinity;
      if (Number.isFinite(slowdown)) metrics[key(`slowdown_${q}`)] = slowdown;
      checks.atMost(`${q} slowdown vs the champion`, slowdown, 'maxSlowdown', settings.maxSlowdown);
    }
  } else checks.lines.push('no champion: maxSlowdown not judged');
  return {
    gate: 'speed',
    passed: checks.passed,
    lines: [
      `${challengerMs.length} timed predictions of ${settings.batchRows} rows: challenger p50 ${num(challenger.p50)} ms, p99 ${num(challenger.p99)} ms; ${
        champion ? `champion p50 ${num(champion.p50)} ms, p99 ${num(champion.p99)} ms` : 'no champion'
      }`,
      ...checks.lines,
    ],
    metrics,
  };
}
