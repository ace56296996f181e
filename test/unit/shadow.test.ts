import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeShadow, noShadowPairs, shadowIsWorse, summarizeShadow, type ShadowPairCounts } from '../../core/shadow.ts';

const JUDGE = { minSamples: 10, tolerance: 0.05, minAgreement: 0 };

function counts(over: Partial<Omit<ShadowPairCounts, 'labelled'>>, labelled: Partial<ShadowPairCounts['labelled']> = {}): ShadowPairCounts {
  const none = noShadowPairs();
  return { ...none, ...over, labelled: { ...none.labelled, ...labelled } };
}

describe('summarizeShadow', () => {
  it("turns a classifier's counts into agreement and both accuracies", () => {
    // 40 pairs, 30 agreeing; 20 labelled: shadow right on 12, champion on 16.
    const c = summarizeShadow('2', counts({ pairs: 40, agreed: 30 }, { n: 20, shadowCorrect: 12, championCorrect: 16 }), false);
    assert.deepEqual(c, {
      shadowVersion: '2',
      pairs: 40,
      agreement: 0.75,
      meanAbsDifference: null,
      shadow: { n: 20, accuracy: 0.6 },
      champion: { n: 20, accuracy: 0.8 },
    });
  });

  it("turns a regression model's counts into the mean difference and both RMSEs", () => {
    // 4 pairs differing by 1, 2, 3, 2 in all; 2 labelled with squared errors 8 + 10 (shadow) and 1 + 1 (champion).
    const c = summarizeShadow('3', counts({ pairs: 4, absDifference: 8 }, { n: 2, shadowSquaredError: 18, championSquaredError: 2 }), true);
    assert.deepEqual(c, {
      shadowVersion: '3',
      pairs: 4,
      agreement: null,
      meanAbsDifference: 2,
      shadow: { n: 2, accuracy: null, rmse: 3 },
      champion: { n: 2, accuracy: null, rmse: 1 },
    });
  });

  it('measures nothing without pairs or labels, rather than dividing by zero', () => {
    const c = summarizeShadow('2', noShadowPairs(), false);
    assert.equal(c.agreement, null);
    assert.deepEqual(
      [c.shadow, c.champion],
      [
        { n: 0, accuracy: null },
        { n: 0, accuracy: null },
      ],
    );
    assert.equal(shadowIsWorse(c, { ...JUDGE, minSamples: 0, minAgreement: 0.9 }), undefined);
    assert.equal(describeShadow(c), 'no agreement measured on 0 shadowed rows; live accuracy shadow n/a vs champion n/a (0 labelled)');
  });
});

describe('shadowIsWorse', () => {
  const classifier = (shadowCorrect: number, championCorrect: number, n = 20, agreed = 40) =>
    summarizeShadow('2', counts({ pairs: 40, agreed }, { n, shadowCorrect, championCorrect }), false);

  it('rejects a shadow whose accuracy falls more than the tolerance below the champion', () => {
    // 0.70 vs 0.80: 0.10 below, beyond 0.05.
    assert.equal(shadowIsWorse(classifier(14, 16), JUDGE), "its live accuracy is more than 0.05 below the champion's");
    // 0.80 vs 0.80 and 0.80 vs 0.85 (0.05 below: at the tolerance, not beyond) hold up.
    assert.equal(shadowIsWorse(classifier(16, 16), JUDGE), undefined);
    assert.equal(shadowIsWorse(classifier(16, 17), JUDGE), undefined);
  });

  it('lets any shadow through with fewer labelled rows than minSamples', () => {
    assert.equal(shadowIsWorse(classifier(0, 9, 9), JUDGE), undefined);
    assert.ok(shadowIsWorse(classifier(0, 10, 10), JUDGE));
  });

  it('judges agreement only when minAgreement asks for it', () => {
    // 30 of 40 rows agree: 0.75.
    const c = classifier(16, 16, 20, 30);
    assert.equal(shadowIsWorse(c, JUDGE), undefined);
    assert.equal(shadowIsWorse(c, { ...JUDGE, minAgreement: 0.75 }), undefined);
    assert.equal(
      shadowIsWorse(c, { ...JUDGE, minAgreement: 0.8 }),
      'it agrees with the champion on 0.750 of rows, below the minimum of 0.800',
    );
    // ... with minSamples shadowed rows (40 here) to tell.
    assert.equal(shadowIsWorse(c, { ...JUDGE, minSamples: 41, minAgreement: 0.8 }), undefined);
  });

  it('rejects a regression shadow whose RMSE exceeds the champion times 1 + tolerance', () => {
    const regression = (shadowSquaredError: number) =>
      summarizeShadow('2', counts({ pairs: 10, absDifference: 5 }, { n: 10, shadowSquaredError, championSquaredError: 40 }), true);
    // Champion RMSE 2; shadow sqrt(4.3) = 2.07 (within 5%: allowed) and sqrt(4.84) = 2.2 (10% above: rejected).
    assert.equal(shadowIsWorse(regression(43), JUDGE), undefined);
    assert.equal(shadowIsWorse(regression(48.4), JUDGE), "its live RMSE exceeds the champion's by more than 5%");
  });
});

describe('describeShadow', () => {
  it('says agreement, then both live scores and how many labelled rows they rest on', () => {
    const c = summarizeShadow('2', counts({ pairs: 40, agreed: 30 }, { n: 20, shadowCorrect: 12, championCorrect: 16 }), false);
    assert.equal(describeShadow(c), 'agreement 0.750 on 40 shadowed rows; live accuracy shadow 0.600 vs champion 0.800 (20 labelled)');
  });
});
