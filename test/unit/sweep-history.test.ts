/**
 * Sweeps that learn from earlier sweeps, the pure part: the spec option, earlier trials checked
 * against today's space and ranked within their sweep, TPE with weighted prior observations,
 * age decay, and runSweep starting from the champion's configuration.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proposeConfig } from '../../core/sampling/index.ts';
import type { TrialConfig } from '../../core/search-space.ts';
import { ModelSpec } from '../../core/spec.ts';
import { priorConfig, priorWeight, ranksWithinSweep, samplerPriors, type PriorTrial, type SweepHistory } from '../../core/sweep-history.ts';
import { runSweep, type RungRequest } from '../../core/sweep-loop.ts';
import { SweepSpec } from '../../core/sweep-spec.ts';

const SPACE = {
  softmax: { learningRate: { type: 'float', low: 1e-4, high: 1, log: true }, batchSize: { type: 'categorical', values: [32, 64, 128] } },
  mlp: {
    depth: { type: 'int', low: 1, high: 3 },
    width: { type: 'int', low: 8, high: 256, log: true },
    learningRate: { type: 'float', low: 1e-4, high: 1, log: true },
  },
};
const sweepOf = (over: Record<string, unknown> = {}) => SweepSpec.parse({ families: SPACE, history: {}, ...over });
const HISTORY = sweepOf().history!;

/** An earlier sweep of `n` softmax trials at the given learning rates, ranked by closeness to `best`. */
function earlierSweep(rates: number[], best: number, ageDays = 1, runPrefix = 'r'): PriorTrial[] {
  const objectives = rates.map((r) => -Math.abs(Math.log10(r) - Math.log10(best)));
  const ranks = ranksWithinSweep(objectives, 'maximize');
  return rates.map((r, i) => ({
    runId: `${runPrefix}${i}`,
    config: { family: 'softmax', params: { learningRate: r, batchSize: 64 } },
    objective: objectives[i],
    rank: ranks[i],
    ageDays,
  }));
}
/** `n` learning rates spread log-uniformly over [1e-4, 1]. */
const spread = (n: number) => Array.from({ length: n }, (_, i) => 10 ** (-4 + (4 * (i + 0.5)) / n));
const near = (x: number, target: number, decades: number) => Math.abs(Math.log10(x) - Math.log10(target)) <= decades;
const lrOf = (c: TrialConfig) => c.params.learningRate as number;

describe('the history spec option', () => {
  it('is off by default and has defaults when present', () => {
    assert.equal(SweepSpec.parse({ families: SPACE }).history, undefined);
    assert.deepEqual(HISTORY, { from: 'model', maxTrials: 200, weight: 0.5, startFromChampion: false });
  });

  it('refuses bad values, naming the field', () => {
    const issues = (history: unknown, over: Record<string, unknown> = {}) =>
      SweepSpec.safeParse({ families: SPACE, history, ...over }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.match(issues({ from: 'tag' }).join('\n'), /^history\.tag: history\.from "tag" needs history\.tag/m);
    assert.match(issues({ maxTrials: 0 }).join('\n'), /^history\.maxTrials:/m);
    assert.match(issues({ weight: 2 }).join('\n'), /^history\.weight:/m);
    assert.match(issues({ halfLife: 'soon' }).join('\n'), /^history\.halfLife:/m);
    assert.match(issues({ from: 'everything' }).join('\n'), /^history\.from:/m);
    assert.match(issues({ tag: 'a b' }).join('\n'), /^history\.tag: a history tag is/m);
    assert.match(issues({}, { sampler: 'random' }).join('\n'), /^history: history seeds the TPE sampler.*sampler "random"/m);
  });
});

describe("earlier trials in today's search space", () => {
  const sweep = sweepOf();
  it('are read from their text params, typed as today', () => {
    assert.deepEqual(priorConfig(sweep, 'softmax', { learningRate: '0.01', batchSize: '64', seed: '3', l2: '0.1' }), {
      family: 'softmax',
      params: { learningRate: 0.01, batchSize: 64 },
    });
    // A parameter not searched then is unknown, not invalid.
    assert.deepEqual(priorConfig(sweep, 'mlp', { depth: '2' }), { family: 'mlp', params: { depth: 2 } });
  });

  it('are dropped when their family is no longer searched or a value is outside the space', () => {
    assert.equal(priorConfig(sweep, 'cnn', { filters: '8' }), 'familyNotSearched');
    assert.equal(priorConfig(sweep, 'softmax', { learningRate: '3' }), 'outsideSpace');
    assert.equal(priorConfig(sweep, 'softmax', { batchSize: '256' }), 'outsideSpace');
    assert.equal(priorConfig(sweep, 'mlp', { depth: '1.5' }), 'outsideSpace');
    assert.equal(priorConfig(sweep, 'mlp', { width: 'wide' }), 'outsideSpace');
  });

  it('are ranked within their own sweep, best first, a diverged trial last', () => {
    assert.deepEqual(ranksWithinSweep([0.7, NaN, 0.9, 0.7], 'maximize'), [0.25, 0.75, 0, 0.5]);
    assert.deepEqual(ranksWithinSweep([0.7, NaN, 0.9, 0.7], 'minimize'), [0, 0.75, 0.5, 0.25]);
  });
});

describe('TPE with prior observations', () => {
  const sweep = sweepOf({ families: { softmax: SPACE.softmax }, seed: 3, tpe: { startupTrials: 5 } });
  const random = sweepOf({ families: { softmax: SPACE.softmax }, seed: 3, sampler: 'random', history: undefined });
  // Three earlier sweeps, each of 16 trials spread over the range, whose best were near 1e-2.
  const trials = [1, 2, 3].flatMap((k) => earlierSweep(spread(16), 1e-2, k, `s${k}-`));

  it('skips the random start-up when the priors weigh enough, and its first proposals land where the earlier sweeps did best', () => {
    const priors = samplerPriors(trials, HISTORY, sweep.tpe.gamma);
    const proposals = Array.from({ length: 10 }, (_, t) => proposeConfig(sweep, t, [], priors));
    const cold = Array.from({ length: 10 }, (_, t) => proposeConfig(sweep, t, []));
    assert.deepEqual(
      cold,
      Array.from({ length: 10 }, (_, t) => proposeConfig(random, t, [])),
      'without priors: random start-up',
    );
    const warmNear = proposals.filter((c) => near(lrOf(c), 1e-2, 0.5)).length;
    const coldNear = cold.filter((c) => near(lrOf(c), 1e-2, 0.5)).length;
    assert.ok(warmNear >= 8, `${warmNear} of 10 proposals within half a decade of 1e-2: ${proposals.map(lrOf).join(', ')}`);
    assert.ok(coldNear <= 4, `random: ${coldNear} of 10 near 1e-2`);
    // Deterministic for the seed and the observations.
    assert.deepEqual(
      Array.from({ length: 10 }, (_, t) => proposeConfig(sweep, t, [], priors)),
      proposals,
    );
  });

  it('keeps the start-up while the priors weigh less than startupTrials', () => {
    const few = samplerPriors(trials.slice(0, 8), HISTORY, sweep.tpe.gamma); // 8 x 0.5 < 5; with one own observation, 5
    assert.deepEqual(proposeConfig(sweep, 0, [], few), proposeConfig(random, 0, []));
    assert.notDeepEqual(proposeConfig(sweep, 0, [{ config: trials[0].config, value: 1 }], few), proposeConfig(random, 0, []));
  });

  it('down-weights old sweeps: of two that disagree, the recent one wins', () => {
    const settings = { ...HISTORY, halfLife: '7d' };
    assert.equal(priorWeight(settings, 0), 0.5);
    assert.equal(priorWeight(settings, 7), 0.25);
    assert.ok(priorWeight(settings, 70) < 0.001);
    const at = (recent: number, old: number) => {
      const priors = samplerPriors(
        [...earlierSweep(spread(24), recent, 1, 'new-'), ...earlierSweep(spread(24), old, 60, 'old-')],
        settings,
        sweep.tpe.gamma,
      );
      return Array.from({ length: 10 }, (_, t) => lrOf(proposeConfig(sweep, t, [], priors)));
    };
    const towardsRecent = (xs: number[], recent: number) => xs.filter((x) => near(x, recent, 0.5)).length;
    assert.ok(towardsRecent(at(1e-3, 0.3), 1e-3) >= 8, `recent best 1e-3, old best 0.3: ${at(1e-3, 0.3).join(', ')}`);
    assert.ok(towardsRecent(at(0.3, 1e-3), 0.3) >= 8, `recent best 0.3, old best 1e-3: ${at(0.3, 1e-3).join(', ')}`);
    // Without decay both count alike: neither region takes (nearly) all proposals.
    const even = samplerPriors(
      [...earlierSweep(spread(24), 1e-3, 1, 'new-'), ...earlierSweep(spread(24), 0.3, 60, 'old-')],
      HISTORY,
      sweep.tpe.gamma,
    );
    const lrs = Array.from({ length: 20 }, (_, t) => lrOf(proposeConfig(sweep, t, [], even)));
    assert.ok(lrs.filter((x) => near(x, 1e-3, 0.5)).length < 17 && lrs.filter((x) => near(x, 0.3, 0.5)).length < 17, lrs.join(', '));
  });

  it("weighs a prior less than one of the sweep's own observations", () => {
    // Own observations say 1e-3 is best; as many priors (half weight) say 0.3: the sweep's own win.
    const own = spread(12).map((r) => ({
      config: { family: 'softmax' as const, params: { learningRate: r, batchSize: 64 } },
      value: -Math.abs(Math.log10(r) + 3),
    }));
    const priors = samplerPriors(earlierSweep(spread(12), 0.3), HISTORY, sweep.tpe.gamma);
    const lrs = Array.from({ length: 10 }, (_, t) => lrOf(proposeConfig(sweep, 12 + t, own, priors)));
    assert.ok(lrs.filter((x) => near(x, 1e-3, 0.5)).length > lrs.filter((x) => near(x, 0.3, 0.5)).length, lrs.join(', '));
  });
});

describe('runSweep with history', () => {
  const spec = ModelSpec.parse({
    name: 'h',
    features: [{ name: 'x' }],
    label: { name: 'y', classes: ['a', 'b'] },
    training: {
      sweep: {
        families: SPACE,
        budget: { maxTrials: 4, maxEpochsPerTrial: 3 },
        earlyStopping: { kind: 'none' },
        history: { startFromChampion: true },
      },
    },
  });
  const champion: TrialConfig = { family: 'mlp', params: { depth: 2, width: 48, learningRate: 0.004, activation: 'tanh' } };
  const run = (readHistory?: () => Promise<SweepHistory>) => {
    const requests: RungRequest[] = [];
    const result = runSweep(spec, {
      startSweepRun: async () => ({ experimentId: '1', runId: 'sweep', artifactUri: '' }),
      trainTrialRung: async (request) => {
        requests.push(request);
        return {
          runId: `t${request.trial}`,
          objective: 0.5,
          valAccuracy: 0.5,
          valLogLoss: 1,
          paramCount: 10,
          latencyMs: 1,
          backend: 'wasm',
        };
      },
      closeTrial: async () => {},
      finishSweepRun: async () => {},
      ...(readHistory ? { readHistory } : {}),
      now: () => 0,
    });
    return result.then((r) => ({ result: r, requests }));
  };

  it("trains the champion's configuration first, from scratch, and says what it learned from", async () => {
    const { result, requests } = await run(async () => ({
      trials: earlierSweep(spread(8), 1e-2),
      sweeps: 1,
      dropped: { familyNotSearched: 2 },
      champion: { version: '3', config: champion },
    }));
    assert.deepEqual(requests[0].config, champion);
    assert.equal(requests[0].config.from, undefined, 'not a warm start of its weights');
    assert.deepEqual(result.notes, [
      'learned from 8 trials of 1 earlier sweep (2 left out: 2 its family is not searched any more)',
      'first trial: the configuration of the champion v3, trained from scratch',
    ]);
  });

  it('without the step, samples as before', async () => {
    const { result, requests } = await run();
    assert.notDeepEqual(requests[0].config, champion);
    assert.equal(result.notes, undefined);
  });
});
