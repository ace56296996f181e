/**
 * Input checks and counting shared by the metrics.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */

export function sameLength(fn: string, a: number, b: number, what: string): void {
  if (a !== b) throw new RangeError(`${fn}: ${a} rows but ${b} ${what}`);
}

export function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
