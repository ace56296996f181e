/**
 * Staggered monitoring: each model's cycles fall on its own phase of the interval, derived from
 * its name, so a fleet registered together (or restarted together) does not fire every cycle at
 * the same instant. PURE and deterministic (a hash, no randomness), so workflow code may call it
 * and replay computes the same waits.
 */

/** A 32-bit hash of the model name as a fraction in [0, 1): its phase within the interval. */
export function staggerFraction(model: string): number {
  // FNV-1a, then MurmurHash3's finalizer: names that differ in a last digit ("model-17",
  // "model-18") differ mostly in FNV's low bits, and the finalizer spreads that to the high bits
  // the fraction is read from.
  let hash = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) hash = Math.imul(hash ^ model.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return ((hash ^ (hash >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * Milliseconds from `nowMs` to the model's next cycle: the next instant t with
 * (t - phase) a whole number of intervals, phase = staggerFraction(model) x interval. Always in
 * (0, interval]: a cycle that ran late, or an early wake-up, returns to the model's own phase
 * instead of drifting toward the others'.
 */
export function untilNextCycle(model: string, intervalMs: number, nowMs: number): number {
  const phase = Math.floor(staggerFraction(model) * intervalMs);
  const into = (((nowMs - phase) % intervalMs) + intervalMs) % intervalMs;
  return intervalMs - into;
}
