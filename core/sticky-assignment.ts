/**
 * Sticky assignment for canaries and A/B tests: a request that carries a `routingKey` (a user, a
 * session) is always answered by the same model of one experiment, so one user sees one model.
 * The key and the experiment's salt (e.g. the challenger's version) are hashed to a number u in
 * [0, 1): FNV-1a over the UTF-8 bytes, then murmur3's finalizer (core/stats/rng.ts `avalanche`) so
 * that similar keys ("user-1", "user-2") land far apart. The challenger answers when u < weight:
 * - a user in the canary at weight 0.1 stays in it when the canary steps up to 0.2;
 * - a new salt (a new challenger) draws users afresh, so the same users are not always the guinea pigs.
 * Requests without a key are routed at random by the model server, as before.
 *
 * PURE module: no Node, tfjs or npm imports; deterministic.
 */
import { avalanche } from './stats/rng.ts';

const encoder = new TextEncoder();

/** The key's position in [0, 1) for this experiment. */
export function stickyPosition(routingKey: string, salt: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(`${salt}\u0000${routingKey}`)) h = Math.imul(h ^ byte, 0x01000193);
  return avalanche(h >>> 0) / 2 ** 32;
}

/** Does the challenger (canary, or B of an A/B test at `weight` 0.5) answer this key? */
export function routesToChallenger(routingKey: string, salt: string, weight: number): boolean {
  return stickyPosition(routingKey, salt) < weight;
}
