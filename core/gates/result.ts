/**
 * What every evaluation gate yields, and which gates a spec turns on. A gate's `metrics` are keyed
 * as they are logged to MLflow (`gate.older_data.challenger.accuracy`), so the retrain's run, its
 * `evaluation.json` and the status show the same numbers under the same names.
 *
 * PURE module.
 */
import type { ModelSpec } from '../spec.ts';

export const GATE_NAMES = ['olderData', 'slices', 'size', 'speed'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** The gate's name in MLflow metric keys. */
export const GATE_KEYS: Record<GateName, string> = { olderData: 'older_data', slices: 'slices', size: 'size', speed: 'speed' };

/** The gate's name in decisions. */
export const GATE_TITLES: Record<GateName, string> = { olderData: 'older-data', slices: 'slices', size: 'size', speed: 'speed' };

export interface GateResult {
  gate: GateName;
  passed: boolean;
  /** The gate could not judge (too few rows, nothing to compare with): it passes, and says why. */
  skipped?: boolean;
  /** What was measured and decided, numbers included. */
  lines: string[];
  metrics: Record<string, number>;
}

/** The gates the spec names, in the order they run. Specs recorded before the gates existed name none. */
export function gatesOf(spec: ModelSpec): GateName[] {
  // `evaluation` itself is absent from specs recorded before it had defaults.
  return GATE_NAMES.filter((gate) => spec.evaluation?.[gate] !== undefined);
}

/** The metric key of `name` within `gate`: `gate.<gate>.<name>`. */
export const gateMetricKey = (gate: GateName, name: string) => `gate.${GATE_KEYS[gate]}.${name}`;

/** A skipped gate: it passes, with the reason. */
export const skippedGate = (gate: GateName, reason: string, metrics: Record<string, number> = {}): GateResult => ({
  gate,
  passed: true,
  skipped: true,
  lines: [reason],
  metrics,
});

/** Numbers in decision lines: 4 significant decimals is what a reader compares. */
export const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/** Collects "value <= limit" checks for a gate: each a line with its numbers and verdict. */
export function limitChecks() {
  const lines: string[] = [];
  let passed = true;
  return {
    lines,
    get passed() {
      return passed;
    },
    atMost(what: string, value: number, limitName: string, limit: number | undefined) {
      if (limit === undefined) return;
      const ok = value <= limit;
      passed &&= ok;
      lines.push(`${what} ${num(value)} <= ${limitName} ${num(limit)}: ${ok ? 'ok' : 'fails'}`);
    },
  };
}
