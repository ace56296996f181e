/**
 * The sweep settings of a model spec and its search ranges: the zod schemas, apart from the
 * search space in search-space.ts so that workflows, which sample from it, do not build them
 * (see spec-reading.ts).
 */
import { z } from 'zod';
import { durationAtLeast } from './duration.ts';
import { FAMILY_PARAMS, WARM_START, WARM_START_PARAMS, type Family, REGRESSION_OBJECTIVES } from './search-space.ts';

export const ParamSpec = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('categorical'), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
    z.object({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), log: z.boolean().default(false) }),
    z.object({ type: z.literal('float'), low: z.number(), high: z.number(), log: z.boolean().default(false) }),
  ])
  .superRefine((p, ctx) => {
    if (p.type === 'categorical') return;
    if (!(p.low < p.high)) ctx.addIssue({ code: 'custom', message: `low (${p.low}) must be below high (${p.high})` });
    if (p.log && !(p.low > 0)) ctx.addIssue({ code: 'custom', message: `a log-scale range needs low > 0 (got ${p.low})` });
  });
export type ParamSpec = z.infer<typeof ParamSpec>;

const FamilySpace = z.record(z.string(), ParamSpec);

export const SweepSpec = z
  .object({
    families: z
      .object({
        softmax: FamilySpace.optional(),
        mlp: FamilySpace.optional(),
        cnn: FamilySpace.optional(),
        gbdt: FamilySpace.optional(),
        /** Trials that fine-tune the champion (skipped while the model has none); searches WARM_START_PARAMS only. */
        warmStart: FamilySpace.optional(),
      })
      .refine((f) => Object.values(f).some(Boolean), 'name at least one model family'),
    sampler: z.enum(['tpe', 'random', 'grid']).default('tpe'),
    /** Grid sampler only: points per int/float range, low to high (geometric when log); 3 when absent. */
    gridPoints: z.number().int().min(2).optional(),
    seed: z.number().int().default(42),
    budget: z
      .object({
        maxTrials: z.number().int().positive().default(12),
        /** A duration; the sweep workflow reads it with parseDuration, so it is checked here, not mid-sweep. */
        maxWallTime: durationAtLeast('10s').default('30m'),
        maxEpochsPerTrial: z.number().int().positive().default(27),
      })
      .prefault({}),
    /** Successive halving: rungs at minEpochs * reductionFactor^k epochs, top 1/reductionFactor promoted. */
    earlyStopping: z
      .discriminatedUnion('kind', [
        z.object({
          kind: z.literal('asha'),
          minEpochs: z.number().int().positive().default(3),
          reductionFactor: z.number().int().min(2).default(3),
        }),
        z.object({ kind: z.literal('none') }),
      ])
      .default({ kind: 'asha', minEpochs: 3, reductionFactor: 3 }),
    parallelism: z.number().int().positive().max(16).default(2),
    objective: z
      .object({
        metric: z.enum(['val_accuracy', 'val_log_loss', ...REGRESSION_OBJECTIVES]).default('val_accuracy'),
        direction: z.enum(['maximize', 'minimize']).default('maximize'),
      })
      .prefault({}),
    tpe: z
      .object({
        startupTrials: z.number().int().nonnegative().default(5),
        candidates: z.number().int().positive().default(24),
        gamma: z.number().gt(0).lt(1).default(0.25),
      })
      .prefault({}),
    /**
     * Learning from earlier sweeps (core/sweep-history.ts): their trials seed TPE's densities as
     * down-weighted prior observations, and the first trial may retrain the champion's configuration.
     * Off when absent.
     */
    history: z
      .object({
        /** 'model': this model's earlier sweeps; 'tag': also those of every model whose sweeps carry `tag`. */
        from: z.enum(['model', 'tag']).default('model'),
        /** Written on this sweep's run, so other models' sweeps with `from: tag` find it; required by `from: tag`. */
        tag: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a history tag is letters, digits, "_", "." and "-" (at most 100)')
          .optional(),
        /** At most this many earlier trials (the most recent sweeps first); they go into workflow history. */
        maxTrials: z.number().int().positive().max(500).default(200),
        /** A prior trial this old counts half as much (a duration); no decay by age when absent. */
        halfLife: durationAtLeast('1m').optional(),
        /** What a fresh prior trial counts, relative to one of this sweep's own trials. */
        weight: z.number().gt(0).max(1).default(0.5),
        /** The first trial retrains the champion's configuration from scratch on the new window. */
        startFromChampion: z.boolean().default(false),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.history && s.sampler !== 'tpe') {
      ctx.addIssue({
        code: 'custom',
        path: ['history'],
        message: `history seeds the TPE sampler with earlier trials; sampler "${s.sampler}" cannot use them: set sampler: tpe`,
      });
    }
    if (s.history?.from === 'tag' && !s.history.tag) {
      ctx.addIssue({
        code: 'custom',
        path: ['history', 'tag'],
        message: 'history.from "tag" needs history.tag: the tag whose sweeps to learn from',
      });
    }
    for (const [family, space] of Object.entries(s.families)) {
      for (const name of Object.keys(space ?? {})) {
        if (family === WARM_START) {
          if (!WARM_START_PARAMS.includes(name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['families', family, name],
              message: `warmStart keeps the champion's architecture and settings: it searches only ${WARM_START_PARAMS.join(', ')}, not "${name}"`,
            });
          }
        } else if (!FAMILY_PARAMS[family as Family].includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['families', family, name],
            message: `${family} has no hyperparameter "${name}" (it has ${FAMILY_PARAMS[family as Family].join(', ')})`,
          });
        }
      }
    }
  });
export type SweepSpec = z.infer<typeof SweepSpec>;
