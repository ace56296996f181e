/**
 * Prediction ids: UUID version 7 (RFC 9562), a 48-bit Unix time in milliseconds followed by 74
 * random bits. The log keeps ids in a unique index; a random (version 4) id lands anywhere in
 * that B-tree, so every insert touches a random page, and once the index outgrows SQLite's page
 * cache, every insert reads one from disk. Time-ordered ids land at the end: the index grows
 * by appending, like the table itself. The id tells when the prediction was made, no more
 * than the response already did.
 */
import { randomFillSync } from 'node:crypto';

// Random bytes drawn in bulk, as crypto.randomUUID does: one system call per 512 ids, not per id.
const BYTES_PER_ID = 10; // rand_a (12 bits, from the low half of the first byte) and rand_b (62 bits)
const pool = Buffer.alloc(BYTES_PER_ID * 512);
let used = pool.length;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// "xxxxxxxx-xxxx-" of the current millisecond, made once per millisecond.
let timeOf = -1;
let timePrefix = '';

export function predictionId(now = Date.now()): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  if (now !== timeOf) {
    const time = now.toString(16).padStart(12, '0');
    timeOf = now;
    timePrefix = `${time.slice(0, 8)}-${time.slice(8)}-`;
  }
  const random = pool.toString('hex', used, used + BYTES_PER_ID);
  const variant = HEX[(pool[used + 2] & 0x3f) | 0x80]; // binary 10 in the top two bits
  used += BYTES_PER_ID;
  // "7": the version; then rand_a from the low half of byte 0 and byte 1, rand_b from bytes 2-9.
  return `${timePrefix}7${random.slice(1, 4)}-${variant}${random.slice(6, 8)}-${random.slice(8)}`;
}
