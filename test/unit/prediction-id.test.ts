/** Prediction ids: RFC 9562 version 7 UUIDs, in time order, and unique. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictionId } from '../../serving/prediction-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('an id is a version 7 UUID whose first 48 bits are its Unix time in milliseconds', () => {
  const at = Date.UTC(2026, 11, 2, 4, 30);
  const id = predictionId(at);
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), at);
});

test('ids of later milliseconds sort after earlier ones, as text', () => {
  const ids = [1, 2, 255, 256, 70_000, 2 ** 40].map((ms) => predictionId(Date.UTC(2026, 0, 1) + ms));
  assert.deepEqual([...ids].sort(), ids);
});

test('ids of the same millisecond differ (more than one random pool refill of them)', () => {
  const ids = Array.from({ length: 5000 }, () => predictionId(1_700_000_000_000));
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, UUID_V7);
});
