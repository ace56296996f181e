import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beatsChampion } from '../../core/promotion.ts';

describe('beatsChampion', () => {
  it('lets a tie through at minImprovement 0 and holds a worse challenger back', () => {
    assert.equal(beatsChampion({ challenger: { accuracy: 0.8 }, champion: { accuracy: 0.8 } }, 0), true);
    assert.equal(beatsChampion({ challenger: { accuracy: 0.79 }, champion: { accuracy: 0.8 } }, 0), false);
  });

  it('asks for minImprovement more than the champion, or allows that much less when negative', () => {
    assert.equal(beatsChampion({ challenger: { accuracy: 0.81 }, champion: { accuracy: 0.8 } }, 0.02), false);
    assert.equal(beatsChampion({ challenger: { accuracy: 0.83 }, champion: { accuracy: 0.8 } }, 0.02), true);
    assert.equal(beatsChampion({ challenger: { accuracy: 0.79 }, champion: { accuracy: 0.8 } }, -0.02), true);
  });

  it('promotes any first model: there is no champion to beat', () => {
    assert.equal(beatsChampion({ challenger: { accuracy: 0 } }, 0.5), true);
  });
});
