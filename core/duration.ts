/** Durations in specs and signals are human strings ("30s", "5m", "24h", "7d") or milliseconds. */
import { z } from 'zod';
import { builtOnFirstUse } from './lazy-schema.ts';
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`duration must be a non-negative number of ms, got ${value}`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) throw new RangeError(`"${value}" is not a duration: use a number with ms, s, m, h or d, e.g. "30s" or "24h"`);
  const ms = Math.round(Number(match[1]) * UNITS[match[2]]);
  // A timer cannot wait longer than this, and hundreds of digits would make Infinity.
  if (!Number.isSafeInteger(ms)) throw new RangeError(`"${value}" is too long a duration`);
  return ms;
}

/** A duration field of a spec or message: validated with parseDuration, kept as written. */
export const Duration = builtOnFirstUse(() =>
  z.union([z.string(), z.number()]).superRefine((value, ctx) => {
    try {
      parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
);

/**
 * A duration that must be at least `min` (e.g. "1s"): a zero monitoring interval would spin the
 * lifecycle, a zero bake judge a canary on nothing, a zero approval timeout never ask anyone.
 */
export function durationAtLeast(min: string) {
  const minMs = parseDuration(min);
  return Duration.superRefine((value, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      return; // Duration's own check reports it.
    }
    if (ms < minMs)
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${min}, got ${typeof value === 'number' ? `${value} (ms)` : `"${value}"`}`,
      });
  });
}
