/**
 * What every drift test shares: the shape of a result, and the checks and alignment of its inputs
 * (non-empty numeric samples; category counts, aligned over the union of categories).
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { DriftTestError } from '../catalogue.ts';
import { sumOf } from '../../stats/sums.ts';

export interface TestOutcome {
  /** The test statistic: KS D, chi-square X², or the distance. */
  statistic: number;
  /** Only for p-value tests (ks, chisquare). */
  pValue?: number;
}

export function requireNonEmpty(what: string, refLength: number, curLength: number): void {
  if (refLength === 0 || curLength === 0) {
    throw new DriftTestError(`${what}: both samples need at least one finite value (reference ${refLength}, current ${curLength})`);
  }
}

export function categoryTotal(counts: Record<string, number>, side: string): number {
  let total = 0;
  for (const [key, count] of Object.entries(counts)) {
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      throw new DriftTestError(`${side} count of category '${key}' must be a finite number >= 0, got ${count}`);
    }
    total += count;
  }
  return total;
}

export function requireCategoryTotals(what: string, reference: Record<string, number>, current: Record<string, number>): void {
  const r = categoryTotal(reference, `${what}: reference`);
  const c = categoryTotal(current, `${what}: current`);
  if (r === 0 || c === 0) throw new DriftTestError(`${what}: both sides need a positive count (reference ${r}, current ${c})`);
}

export function countMap(counts: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(counts));
}

/**
 * Keys with a positive count on either side, sorted (so the result does not depend on the
 * insertion order of the records; sums are then always taken in the same order).
 */
export function unionKeys<K extends string | number>(a: Map<K, number>, b: Map<K, number>): K[] {
  const keys = new Set<K>();
  for (const [k, n] of a) if (n > 0) keys.add(k);
  for (const [k, n] of b) if (n > 0) keys.add(k);
  const sorted = [...keys];
  return typeof sorted[0] === 'number' ? sorted.sort((p, q) => (p as number) - (q as number)) : sorted.sort();
}

/** Shares count / total of both sides over the union of their keys (0 where a key is absent). */
export function alignedShares<K extends string | number>(a: Map<K, number>, b: Map<K, number>): [number[], number[]] {
  const keys = unionKeys(a, b);
  const totalA = sumOf(keys.map((k) => a.get(k) ?? 0));
  const totalB = sumOf(keys.map((k) => b.get(k) ?? 0));
  return [keys.map((k) => (a.get(k) ?? 0) / totalA), keys.map((k) => (b.get(k) ?? 0) / totalB)];
}
