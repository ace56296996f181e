import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beatsChampion, canaryIsWorse } from '../../core/promotion.ts';

const acc = (accuracy: number, n = 100) => ({ n, accuracy });
const rmse = (value: number, n = 100) => ({ n, accuracy: null, rmse: value });

describe('beatsChampion', () => {
  it('lets a tie through at minImprovement 0 and holds a worse challenger back', () => {
    assert.equal(beatsChampion({ challenger: acc(0.8), champion: acc(0.8) }, 0), true);
    assert.equal(beatsChampion({ challenger: acc(0.79), champion: acc(0.8) }, 0), false);
  });

  it('asks for minImprovement more than the champion, or allows that much less when negative', () => {
    assert.equal(beatsChampion({ challenger: acc(0.81), champion: acc(0.8) }, 0.02), false);
    assert.equal(beatsChampion({ challenger: acc(0.83), champion: acc(0.8) }, 0.02), true);
    assert.equal(beatsChampion({ challenger: acc(0.79), champion: acc(0.8) }, -0.02), true);
  });

  it('promotes any first model: there is no champion to beat', () => {
    assert.equal(beatsChampion({ challenger: acc(0) }, 0.5), true);
    assert.equal(beatsChampion({ challenger: rmse(100) }, 0.5), true);
  });

  it('judges a regression model by RMSE: at most the champion times (1 - minImprovement)', () => {
    assert.equal(beatsChampion({ challenger: rmse(4), champion: rmse(4) }, 0), true);
    assert.equal(beatsChampion({ challenger: rmse(4.1), champion: rmse(4) }, 0), false);
    // 10% better needed: 3.6 passes, 3.7 does not.
    assert.equal(beatsChampion({ challenger: rmse(3.6), champion: rmse(4) }, 0.1), true);
    assert.equal(beatsChampion({ challenger: rmse(3.7), champion: rmse(4) }, 0.1), false);
  });
});

describe('canaryIsWorse', () => {
  it('rolls a classifier back when its live accuracy is more than tolerance below the champion', () => {
    assert.equal(canaryIsWorse({ canary: acc(0.74), champion: acc(0.8) }, 0.05), true);
    assert.equal(canaryIsWorse({ canary: acc(0.76), champion: acc(0.8) }, 0.05), false);
  });

  it('rolls a regression model back when its live RMSE exceeds the champion times (1 + tolerance)', () => {
    assert.equal(canaryIsWorse({ canary: rmse(4.3), champion: rmse(4) }, 0.05), true);
    assert.equal(canaryIsWorse({ canary: rmse(4.1), champion: rmse(4) }, 0.05), false);
  });

  it('has no verdict without labelled predictions on both sides', () => {
    assert.equal(canaryIsWorse({ canary: { n: 0, accuracy: null }, champion: acc(0.9) }, 0.05), false);
    assert.equal(canaryIsWorse({ canary: rmse(9), champion: { n: 0, accuracy: null, rmse: null } }, 0.05), false);
  });
});
