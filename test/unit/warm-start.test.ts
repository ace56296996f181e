import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig, FAMILIES, type TrialConfig } from '../../core/search-space.ts';
import { SweepSpec } from '../../core/sweep-spec.ts';
import { proposeConfig } from '../../core/sampling/index.ts';
import { familiesOf } from '../../core/sampling/space.ts';
import { runSweep, type RungRequest } from '../../core/sweep-loop.ts';
import { ModelSpec } from '../../core/spec.ts';
import { modelConfigOf } from '../../activities/warm-start.ts';
import { fineTunedConfig, planWarmStart, scratchConfig, trialConfig } from '../../core/warm-start.ts';

const WARM = {
  learningRate: { type: 'float', low: 1e-4, high: 1e-2, log: true },
  optimizer: { type: 'categorical', values: ['adam', 'sgd'] },
};
const SOFTMAX = { learningRate: { type: 'float', low: 0.01, high: 0.2, log: true } };
const sweepOf = (families: Record<string, unknown>, over: Record<string, unknown> = {}) => SweepSpec.parse({ families, ...over });

describe('the warmStart family option', () => {
  it('searches learningRate, batchSize and optimizer, alone or next to model families', () => {
    const sweep = sweepOf({ warmStart: { ...WARM, batchSize: { type: 'int', low: 16, high: 128 } }, softmax: SOFTMAX });
    assert.deepEqual(Object.keys(sweep.families.warmStart!).sort(), ['batchSize', 'learningRate', 'optimizer']);
    assert.deepEqual(sweepOf({ warmStart: {} }).families, { warmStart: {} });
  });

  it("refuses the champion's architecture settings, naming the field", () => {
    const result = SweepSpec.safeParse({ families: { warmStart: { width: { type: 'int', low: 8, high: 64 } }, mlp: {} } });
    assert.equal(result.success, false);
    const [issue] = result.error!.issues;
    assert.deepEqual(issue.path, ['families', 'warmStart', 'width']);
    assert.equal(
      issue.message,
      `warmStart keeps the champion's architecture and settings: it searches only learningRate, batchSize, optimizer, not "width"`,
    );
  });

  it('is a family of the model spec', () => {
    const spec = ModelSpec.parse({
      name: 'w',
      features: [{ name: 'x' }],
      label: { name: 'y', classes: ['a', 'b'] },
      training: { sweep: { families: { warmStart: WARM, mlp: {} } } },
    });
    assert.ok(spec.training.sweep.families.warmStart);
  });
});

describe('planWarmStart', () => {
  const both = sweepOf({ warmStart: WARM, softmax: SOFTMAX });

  it('leaves a sweep without warmStart, or with a champion, as it is', () => {
    const plain = sweepOf({ softmax: SOFTMAX });
    assert.equal((planWarmStart('m', plain, undefined) as { sweep: SweepSpec }).sweep, plain);
    assert.deepEqual(planWarmStart('m', both, '3'), { sweep: both });
  });

  it("skips warmStart on a model's first retrain, with a note", () => {
    assert.deepEqual(planWarmStart('m', both, undefined), {
      sweep: { ...both, families: { softmax: both.families.softmax } },
      note: 'warmStart trials skipped: m has no champion yet to continue',
    });
  });

  it('skips warmStart when the champion cannot be continued, saying why; fails when nothing else is left', () => {
    const blocker = 'cannot warm-start: v3 was trained on features a, b; the spec has a, b, c';
    assert.deepEqual(planWarmStart('m', both, '3', blocker), {
      sweep: { ...both, families: { softmax: both.families.softmax } },
      note: `warmStart trials skipped: v3 cannot be continued (${blocker})`,
    });
    assert.deepEqual(planWarmStart('m', both, '3', null), { sweep: both });
    const plan = planWarmStart('m', sweepOf({ warmStart: WARM }), '3', blocker);
    assert.equal(
      (plan as { error: string }).error,
      `v3 cannot be continued (${blocker}), and the sweep's only family is warmStart: add a model family to training.sweep.families`,
    );
  });

  it('cannot run a first retrain whose only family is warmStart', () => {
    const plan = planWarmStart('m', sweepOf({ warmStart: WARM }), undefined);
    assert.match((plan as { error: string }).error, /^m has no champion yet, and the sweep's only family is warmStart/);
  });
});

describe('warm-start trial configurations', () => {
  it('name the champion they continue; model families are left alone', () => {
    const warm = trialConfig({ family: 'warmStart', params: { learningRate: 0.001 } }, '3');
    assert.deepEqual(warm, { family: 'warmStart', params: { learningRate: 0.001 }, from: '3' });
    assert.equal(describeConfig(warm), 'warmStart from v3 learningRate=0.001');
    const fresh: TrialConfig = { family: 'mlp', params: { width: 8 } };
    assert.equal(trialConfig(fresh, '3'), fresh);
    assert.throws(() => trialConfig({ family: 'warmStart', params: {} }, undefined), /without a champion/);
  });

  it("train the champion's model with the trial's fine-tuning settings", () => {
    const champion = { family: 'mlp' as const, params: { width: 48, dropout: 0.1, learningRate: 0.02 } };
    assert.deepEqual(fineTunedConfig(champion, { family: 'warmStart', from: '3', params: { learningRate: 0.001, optimizer: 'sgd' } }), {
      family: 'mlp',
      params: { width: 48, dropout: 0.1, learningRate: 0.001, optimizer: 'sgd' },
    });
    assert.deepEqual(scratchConfig({ family: 'softmax', params: { l2: 0.1 } }), { family: 'softmax', params: { l2: 0.1 } });
    assert.throws(() => scratchConfig({ family: 'warmStart', from: '3', params: {} }), /needs the champion/);
  });
});

describe('sampling with warmStart', () => {
  it('keeps the model families in their order, warmStart last (older sweeps draw as before)', () => {
    assert.deepEqual(familiesOf(sweepOf({ gbdt: {}, cnn: {}, softmax: {}, mlp: {} })), [...FAMILIES]);
    assert.deepEqual(FAMILIES.slice(0, 3), ['softmax', 'mlp', 'cnn'], 'a new family goes last');
    assert.deepEqual(familiesOf(sweepOf({ warmStart: {}, mlp: {}, softmax: {} })), ['softmax', 'mlp', 'warmStart']);
  });

  for (const sampler of ['random', 'grid', 'tpe'] as const) {
    it(`${sampler} proposes warm starts like any family, with their searched settings only`, () => {
      const sweep = sweepOf({ warmStart: WARM, softmax: SOFTMAX }, { sampler, seed: 7, tpe: { startupTrials: 3 } });
      const observations: { config: TrialConfig; value: number }[] = [];
      for (let t = 0; t < 24; t++) {
        const config = proposeConfig(sweep, t, observations);
        assert.deepEqual(Object.keys(config.params).sort(), Object.keys(sweep.families[config.family]!).sort());
        // Warm starts do better here: TPE should come to prefer them.
        observations.push({ config, value: config.family === 'warmStart' ? 0.9 : 0.6 });
      }
      const warm = observations.filter((o) => o.config.family === 'warmStart').length;
      assert.ok(warm >= 6 && warm < 24, `${warm} of 24 proposals are warm starts`);
      if (sampler === 'tpe') assert.ok(observations.slice(12).filter((o) => o.config.family === 'warmStart').length >= 9);
    });
  }
});

describe('runSweep with warmStart', () => {
  it('trains warm starts from the given champion through the same rungs as the others', async () => {
    const spec = ModelSpec.parse({
      name: 'w',
      features: [{ name: 'x' }],
      label: { name: 'y', classes: ['a', 'b'] },
      training: {
        sweep: {
          families: { warmStart: WARM, softmax: SOFTMAX },
          sampler: 'grid',
          gridPoints: 2,
          budget: { maxTrials: 6, maxEpochsPerTrial: 9 },
          earlyStopping: { kind: 'asha', minEpochs: 3, reductionFactor: 3 },
        },
      },
    });
    const requests: RungRequest[] = [];
    const result = await runSweep(
      spec,
      {
        startSweepRun: async () => ({ experimentId: '1', runId: 'sweep', artifactUri: '' }),
        trainTrialRung: async (request) => {
          requests.push(request);
          // The warm starts are the better models: one of them wins.
          const objective = (request.config.family === 'warmStart' ? 0.8 : 0.5) + request.trial / 100;
          return {
            runId: `t${request.trial}`,
            objective,
            valAccuracy: objective,
            valLogLoss: 1,
            paramCount: 10,
            latencyMs: 1,
            backend: 'wasm',
          };
        },
        closeTrial: async () => {},
        finishSweepRun: async () => {},
        now: () => 0,
      },
      undefined,
      'deterministic',
      '4',
    );
    const warm = requests.filter((r) => r.config.family === 'warmStart');
    assert.ok(warm.length > 0 && warm.every((r) => r.config.from === '4'));
    assert.ok(requests.filter((r) => r.config.family === 'softmax').every((r) => r.config.from === undefined));
    assert.deepEqual([...new Set(requests.map((r) => `${r.fromEpoch}->${r.toEpoch}`))].sort(), ['0->3', '3->9']);
    assert.equal(result.best.config.family, 'warmStart');
    assert.match(describeConfig(result.best.config), /^warmStart from v4 /);
  });
});

describe("a champion's model configuration", () => {
  it('is read from its trial run: the model_config tag, else (older runs) its params', () => {
    const config = { family: 'mlp', params: { width: 48, learningRate: 0.001 } };
    assert.deepEqual(
      modelConfigOf({ tags: { 'perennial.model_config': JSON.stringify(config) }, params: { family: 'warmStart' } }),
      config,
    );
    assert.deepEqual(modelConfigOf({ tags: {}, params: { family: 'mlp', width: '48', dropout: '0.1', seed: '12' } }), {
      family: 'mlp',
      params: { width: '48', dropout: '0.1' },
    });
    assert.equal(modelConfigOf({ tags: {}, params: {} }), undefined);
  });
});
