import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routesToChallenger, stickyPosition } from '../../core/sticky-assignment.ts';

describe('sticky assignment', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it('is the same for a key every time, and in [0, 1)', () => {
    assert.equal(stickyPosition('user-7', 'v3'), stickyPosition('user-7', 'v3'));
    for (const k of keys.slice(0, 100)) {
      const u = stickyPosition(k, 'v3');
      assert.ok(u >= 0 && u < 1);
    }
  });

  it('sends about `weight` of the keys to the challenger (binomial: within 4 standard deviations)', () => {
    for (const weight of [0.1, 0.2, 0.5]) {
      const share = keys.filter((k) => routesToChallenger(k, 'v3', weight)).length / keys.length;
      const sd = Math.sqrt((weight * (1 - weight)) / keys.length);
      assert.ok(Math.abs(share - weight) < 4 * sd, `weight ${weight}: share ${share}`);
    }
  });

  it('keeps canary users in the canary when its weight grows, and redraws for a new experiment', () => {
    for (const k of keys.slice(0, 2000)) if (routesToChallenger(k, 'v3', 0.1)) assert.ok(routesToChallenger(k, 'v3', 0.2));
    const same = keys.filter((k) => routesToChallenger(k, 'v3', 0.5) === routesToChallenger(k, 'v4', 0.5)).length / keys.length;
    assert.ok(Math.abs(same - 0.5) < 0.02, `agreement between experiments ${same}`);
  });
});
