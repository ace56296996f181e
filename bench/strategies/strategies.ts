/**
 * The live strategies bench/strategies compares, each run over one LabelStream with a look after
 * every `batch` labels (how often a canary workflow would check), up to the stream's end:
 * - the sequential canary (core/sequential/: always-valid mSPRT, non-inferiority margin):
 *   rolls back on `worse`, promotes on `not-worse`, else keeps baking; undecided at the end;
 * - today's rule (core/promotion.ts `canaryIsWorse`, at least `minSamples` canary labels): checked
 *   at every look (what live comparison after each batch would do) or once (at the end of one
 *   bake, as the retrain workflow does now); never rolled back means promoted;
 * - for the A/B test: the same sequential test with margin 0 (promote when the challenger is
 *   better, keep the champion when it is worse), the fixed-horizon z-test at the stream's end, and
 *   the same z-test checked at every look ("peeking"), to show why peeking needs always-valid tests.
 */
import { canaryIsWorse } from '../../core/promotion.ts';
import { INITIAL_STATE, type SequentialOptions } from '../../core/sequential/always-valid.ts';
import { EMPTY_MOMENTS, meanSequentialTest, mergeMoments, momentsOf, type Moments } from '../../core/sequential/difference-of-means.ts';
import { twoProportionZTest } from '../../core/sequential/two-proportion-z-test.ts';
import { accuracySequentialTest, type Tally } from '../../core/sequential/two-proportions.ts';
import type { LabelStream } from './streams.ts';

export type Verdict = 'rollback' | 'promote' | 'none';
export interface Outcome {
  verdict: Verdict;
  /** Labels (both arms) seen when the verdict was made; the stream's length when none was. */
  labels: number;
}

/** Calls `look` with the cumulative tallies after every batch until it returns a verdict. */
function classificationLooks(stream: LabelStream, batch: number, look: (champion: Tally, challenger: Tally) => Verdict): Outcome {
  const champion: Tally = { n: 0, correct: 0 };
  const challenger: Tally = { n: 0, correct: 0 };
  const length = stream.outcome.length;
  for (let i = 0; i < length; i++) {
    const arm = stream.toChallenger[i] ? challenger : champion;
    arm.n++;
    arm.correct += stream.outcome[i];
    if ((i + 1) % batch === 0 || i === length - 1) {
      const verdict = look(champion, challenger);
      if (verdict !== 'none') return { verdict, labels: i + 1 };
    }
  }
  return { verdict: 'none', labels: length };
}

export function sequentialCanary(stream: LabelStream, batch: number, options: SequentialOptions): Outcome {
  let state = INITIAL_STATE;
  return classificationLooks(stream, batch, (champion, challenger) => {
    const r = accuracySequentialTest(state, champion, challenger, options);
    state = r.state;
    return r.decision === 'worse' ? 'rollback' : r.decision === 'not-worse' ? 'promote' : 'none';
  });
}

const score = (t: Tally) => ({ n: t.n, accuracy: t.n ? t.correct / t.n : null });

export function currentRuleEveryLook(stream: LabelStream, batch: number, tolerance: number, minSamples: number): Outcome {
  const o = classificationLooks(stream, batch, (champion, challenger) =>
    challenger.n >= minSamples && canaryIsWorse({ canary: score(challenger), champion: score(champion) }, tolerance) ? 'rollback' : 'none',
  );
  return o.verdict === 'none' ? { verdict: 'promote', labels: o.labels } : o;
}

/** Today's workflow: one comparison after `labels` labels (one bake), promote unless worse. */
export function currentRuleOneLook(stream: LabelStream, labels: number, tolerance: number, minSamples: number): Outcome {
  const truncated = { toChallenger: stream.toChallenger.subarray(0, labels), outcome: stream.outcome.subarray(0, labels) };
  const o = classificationLooks(truncated, labels, (champion, challenger) =>
    challenger.n >= minSamples && canaryIsWorse({ canary: score(challenger), champion: score(champion) }, tolerance)
      ? 'rollback'
      : 'promote',
  );
  return o;
}

/** A/B, sequential: `promote` = the challenger is better, `rollback` = it is worse (keep the champion). */
export function sequentialAb(stream: LabelStream, batch: number, options: SequentialOptions): Outcome {
  return sequentialCanary(stream, batch, { ...options, margin: 0 });
}

const zVerdict = (champion: Tally, challenger: Tally, alpha: number): Verdict => {
  if (champion.n === 0 || challenger.n === 0) return 'none';
  const z = twoProportionZTest(champion, challenger, alpha);
  return z.pValue >= alpha ? 'none' : z.effect > 0 ? 'promote' : 'rollback';
};

/** A/B, the classic fixed horizon: one z-test when the stream (the set duration) ends. */
export function fixedHorizonAb(stream: LabelStream, alpha: number): Outcome {
  return classificationLooks(stream, stream.outcome.length, (champion, challenger) => zVerdict(champion, challenger, alpha));
}

/** A/B, the same z-test looked at after every batch: what not to do. */
export function peekingAb(stream: LabelStream, batch: number, alpha: number, minSamples: number): Outcome {
  return classificationLooks(stream, batch, (champion, challenger) =>
    Math.min(champion.n, challenger.n) >= minSamples ? zVerdict(champion, challenger, alpha) : 'none',
  );
}

/** Regression: cumulative moments of squared errors per arm after every batch. */
function regressionLooks(stream: LabelStream, batch: number, look: (champion: Moments, challenger: Moments) => Verdict): Outcome {
  let champion = EMPTY_MOMENTS;
  let challenger = EMPTY_MOMENTS;
  const values: [number[], number[]] = [[], []];
  const length = stream.outcome.length;
  for (let i = 0; i < length; i++) {
    values[stream.toChallenger[i]].push(stream.outcome[i]);
    if ((i + 1) % batch === 0 || i === length - 1) {
      // What a workflow would do: summarise the new batch, merge it into the carried moments.
      champion = mergeMoments(champion, momentsOf(values[0]));
      challenger = mergeMoments(challenger, momentsOf(values[1]));
      values[0] = [];
      values[1] = [];
      const verdict = look(champion, challenger);
      if (verdict !== 'none') return { verdict, labels: i + 1 };
    }
  }
  return { verdict: 'none', labels: length };
}

export function sequentialRegressionCanary(stream: LabelStream, batch: number, options: SequentialOptions): Outcome {
  let state = INITIAL_STATE;
  return regressionLooks(stream, batch, (champion, challenger) => {
    const r = meanSequentialTest(state, champion, challenger, options);
    state = r.state;
    return r.decision === 'worse' ? 'rollback' : r.decision === 'not-worse' ? 'promote' : 'none';
  });
}

const rmseScore = (m: Moments) => ({ n: m.n, accuracy: null, rmse: m.n ? Math.sqrt(m.mean) : null });

export function currentRegressionRuleEveryLook(stream: LabelStream, batch: number, tolerance: number, minSamples: number): Outcome {
  const o = regressionLooks(stream, batch, (champion, challenger) =>
    challenger.n >= minSamples && canaryIsWorse({ canary: rmseScore(challenger), champion: rmseScore(champion) }, tolerance)
      ? 'rollback'
      : 'none',
  );
  return o.verdict === 'none' ? { verdict: 'promote', labels: o.labels } : o;
}
