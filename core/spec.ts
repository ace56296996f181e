/**
 * The model spec: everything Perennial needs to know to keep one model fresh.
 * Users write it as YAML or JSON; it travels inside workflow arguments, so it stays small.
 * Pure module: imported by workflows, activities, client and serving alike.
 */
import { z } from 'zod';
import { durationAtLeast } from './duration.ts';
import { DRIFT_TEST_NAMES, DRIFT_TESTS } from './drift/catalogue.ts';
import { AlertsSpec } from './alerts-spec.ts';
import { withKnownKeys } from './known-keys.ts';
import { PolicySpec } from './policy.ts';
import { isRegression, TRAINING_QUEUE_SUFFIX } from './spec-reading.ts';
import { CLASSIFIER_GATE_METRICS, EvaluationGatesSpec } from './gates/spec.ts';

export { PolicySpec };
import { REGRESSION_OBJECTIVES } from './search-space.ts';
import { SweepSpec } from './sweep-spec.ts';
import { OnlineSpec, TRAINING_MODES } from './online-spec.ts';

/**
 * Lower bounds of the durations that pace a loop or a wait: below them the lifecycle would spin
 * (monitoring), judge a canary on nothing (bake), or decide before anyone could look (approval).
 */
export const MIN_DURATIONS = { monitoringInterval: '100ms', canaryBake: '1s', approvalTimeout: '1s', scheduleEvery: '1s' } as const;

export const FeatureSpec = z.discriminatedUnion('type', [
  z.object({
    name: z.string().min(1),
    type: z.literal('number'),
    /** Valid range; values outside it fail data validation. */
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.object({
    name: z.string().min(1),
    type: z.literal('category'),
    /** Known categories: one-hot encoded; others are anomalies (encoded as all zeros). */
    values: z.array(z.string().min(1)).min(1),
  }),
]);

/** Features may omit `type`: numbers are the common case. */
const FeatureInput = z.preprocess((f) => (f && typeof f === 'object' && !('type' in f) ? { ...f, type: 'number' } : f), FeatureSpec);

/**
 * What the model predicts: one of `classes` (classification; `type: category` may be left out) or
 * a number (regression, `type: number`). Specs from before regression have no `type`: read them
 * with isRegression / labelClasses, never by testing `type === 'category'`.
 */
export const LabelSpec = z.preprocess(
  (l) => (l && typeof l === 'object' && !('type' in l) ? { ...l, type: 'category' } : l),
  z.discriminatedUnion('type', [
    z.strictObject({ name: z.string().min(1), type: z.literal('category'), classes: z.array(z.string().min(1)).min(2) }),
    z.strictObject({ name: z.string().min(1), type: z.literal('number') }),
  ]),
);
export type LabelSpec = z.infer<typeof LabelSpec>;

/** A small default search: softmax regression and one-layer MLPs. */
const DEFAULT_FAMILIES = {
  softmax: { learningRate: { type: 'float', low: 0.005, high: 0.2, log: true } },
  mlp: {
    width: { type: 'int', low: 8, high: 64, log: true },
    learningRate: { type: 'float', low: 0.002, high: 0.05, log: true },
    dropout: { type: 'float', low: 0, high: 0.3 },
  },
} as const;

/** Which labelled records a retrain learns from. */
export const TrainingWindow = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('lastRows'), rows: z.number().int().positive() }),
  /** Records stored in the last `days` days before the retrain started. */
  z.object({ kind: z.literal('lastDays'), days: z.number().positive() }),
  /** Records stored since the data the champion was trained on (all records while there is none). */
  z.object({ kind: z.literal('sinceChampion') }),
]);

export const DEPLOYMENT_STRATEGIES = ['canary', 'ab', 'shadow-then-canary', 'direct'] as const;
export type DeploymentStrategy = (typeof DEPLOYMENT_STRATEGIES)[number];

/** Specs that name no strategy keep their behaviour: a shadow phase when `shadow` is given. */
function deploymentDefault(raw: unknown): unknown {
  const spec = raw as { deployment?: { strategy?: unknown }; shadow?: unknown } | null;
  if (!spec || typeof spec !== 'object') return raw;
  const strategy = spec.deployment?.strategy;
  if (strategy === undefined) {
    return { ...spec, deployment: { ...spec.deployment, strategy: spec.shadow !== undefined ? 'shadow-then-canary' : 'canary' } };
  }
  // The strategy asks for a shadow phase: the `shadow` settings default.
  return strategy === 'shadow-then-canary' && spec.shadow === undefined ? { ...spec, shadow: {} } : raw;
}

/** A regression model's sweep is judged by validation RMSE unless the spec says otherwise. */
function regressionObjectiveDefault(raw: unknown): unknown {
  const spec = raw as { label?: { type?: unknown }; training?: { sweep?: { objective?: unknown } } } | null;
  if (spec?.label?.type !== 'number' || spec.training?.sweep?.objective !== undefined) return raw;
  const training = spec.training ?? {};
  const objective = { metric: 'val_rmse', direction: 'minimize' };
  return {
    ...spec,
    training: { ...training, sweep: training.sweep ? { ...training.sweep, objective } : { families: DEFAULT_FAMILIES, objective } },
  };
}

/** Characters every Temporal deployment accepts in a task queue name, and no clash with a training queue. */
const TaskQueueName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/,
    'a task queue name is 1-200 letters, digits, dots, dashes and underscores, starting with a letter or digit',
  )
  .refine(
    (name) => !name.endsWith(TRAINING_QUEUE_SUFFIX),
    `names ending in ${TRAINING_QUEUE_SUFFIX} are the training queues of other task queues`,
  );

const ModelSpecObject = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'model names are lower-case letters, digits and dashes'),
    description: z.string().default(''),
    features: z.array(FeatureInput).min(1),
    /** Image-shaped inputs: the numeric features, in order, are the pixels of one image (row-major, channels last). */
    image: z
      .object({ height: z.number().int().positive(), width: z.number().int().positive(), channels: z.number().int().positive() })
      .optional(),
    label: LabelSpec,
    training: z
      .object({
        window: TrainingWindow.default({ kind: 'all' }),
        /**
         * 'retrain' when absent: every new model comes from a sweep. 'online': the champion also
         * keeps learning from new labels between retrains (core/online.ts), as `online` says.
         * Neither has a default written into specs, so a lifecycle's spec from before them reads unchanged.
         */
        mode: z.enum(TRAINING_MODES).optional(),
        online: OnlineSpec.optional(),
        holdoutFraction: z.number().gt(0).lt(1).default(0.2),
        /** The AutoML sweep that produces the challenger (core/search-space.ts). */
        sweep: SweepSpec.prefault({ families: DEFAULT_FAMILIES }),
        /**
         * Labels from the model server's feedback endpoint are training data too; this bounds how
         * much of a window they may be, so anonymous or unvetted feedback cannot take it over.
         */
        feedback: z
          .object({
            /** Largest share of a training window that may come from feedback (0 = imported records only). */
            maxShare: z.number().min(0).max(1).default(1),
            /** Feedback sources (API key names, or "anonymous") whose labels count; all when absent. */
            sources: z.array(z.string().min(1)).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    validation: z
      .object({
        minRows: z.number().int().positive().default(50),
        maxMissingFraction: z.number().min(0).max(1).default(0.05),
        /** Every class present in the snapshot needs at least this many rows, and at least two classes must appear. */
        minClassCount: z.number().int().nonnegative().default(2),
      })
      .prefault({}),
    monitoring: z
      .object({
        interval: durationAtLeast(MIN_DURATIONS.monitoringInterval).default('1m'),
        /** Read by no code since the monitoring of lifecycles before policy-rules-v2 was retired; accepted so that specs that set it still validate. */
        windowRows: z.number().int().positive().default(500),
        /** At most this many of the predictions logged since the last cycle are analysed (the most recent). */
        maxRows: z.number().int().positive().default(200_000),
        drift: z
          .object({
            /** Input drift waits until this many predictions arrived since the last tested window. */
            minRows: z.number().int().positive().default(100),
            /** Threshold of the p-value tests (KS, chi-square) the automatic choice makes: drift when p < pValue. */
            pValue: z.number().gt(0).lt(1).default(0.05),
            /** Threshold of the distances (Wasserstein, Jensen-Shannon) it makes beyond 1,000 rows: drift when >= distance. */
            distance: z.number().gt(0).default(0.1),
            /** Per-feature test and threshold instead of the automatic choice (core/drift/feature-drift.ts). */
            features: z
              .record(z.string(), z.object({ test: z.enum(DRIFT_TEST_NAMES).optional(), threshold: z.number().min(0).optional() }))
              .default({}),
          })
          .prefault({}),
        /** Predictions whose top probability is below this count as low-confidence. */
        confidenceThreshold: z.number().gt(0).lt(1).default(0.5),
        /** A metric per group of a column of the logged inputs, and the gap between groups. */
        fairness: z
          .object({
            column: z.string().min(1),
            /** Positive rate per group (demographic parity) is reported when given. */
            positiveClass: z.string().optional(),
            minGroupSize: z.number().int().positive().default(30),
          })
          .optional(),
      })
      .prefault({}),
    policies: PolicySpec.prefault({}),
    /** Webhook and email notifications (core/alerts.ts); off unless a channel is configured. */
    alerts: AlertsSpec.prefault({}),
    /** Periodic retraining as a Temporal Schedule, e.g. "7d". */
    schedule: z.object({ every: durationAtLeast(MIN_DURATIONS.scheduleEvery) }).optional(),
    /**
     * The worker task queue of this model's lifecycle, retrains and activities (its trial rungs
     * go to `<taskQueue>-training`), for models that need their own workers; the client's queue
     * (PERENNIAL_TASK_QUEUE, default `perennial`) when absent.
     */
    taskQueue: TaskQueueName.optional(),
    evaluation: z
      .object({
        /** The challenger must beat the champion's holdout accuracy by at least this much. */
        minImprovement: z.number().min(-1).max(1).default(0),
        /** The gates before any traffic (core/gates/spec.ts): older data, slices, size and speed. */
        ...EvaluationGatesSpec,
      })
      .prefault({}),
    approval: z
      .object({
        required: z.boolean().default(true),
        timeout: durationAtLeast(MIN_DURATIONS.approvalTimeout).default('24h'),
        onTimeout: z.enum(['approve', 'reject']).default('reject'),
        /**
         * Who may approve or reject: reviewer names, or `group:<name>` for a group in `groups`.
         * Empty: anyone who can signal the workflow (a warning at registration).
         */
        reviewers: z.array(z.string().trim().min(1)).default([]),
        /** Named groups of reviewers, referenced as `group:<name>` in `reviewers`. */
        groups: z.record(z.string().min(1), z.array(z.string().trim().min(1)).min(1)).default({}),
      })
      .prefault({}),
    canary: z
      .object({
        steps: z
          .array(z.object({ weight: z.number().gt(0).lt(1), bake: durationAtLeast(MIN_DURATIONS.canaryBake) }))
          .default([{ weight: 0.2, bake: '2m' }]),
        /** Labelled canary predictions needed for a live verdict; fewer keeps the offline verdict. */
        minSamples: z.number().int().nonnegative().default(20),
        /**
         * How far canary accuracy may fall below the champion's (a regression canary's RMSE rise
         * above it, as a share): the practical margin of the sequential test, the whole rule of 'tolerance'.
         */
        tolerance: z.number().min(0).max(1).default(0.05),
        /**
         * 'sequential': an always-valid test on the live labels (core/sequential/) rolls back as soon
         * as the canary is worse with confidence 1 - deployment.alpha, promotes as soon as it is at
         * worst `tolerance` worse, and otherwise keeps baking. 'tolerance': the rule before it, a
         * comparison of the two live scores at the end of each step.
         */
        verdict: z.enum(['sequential', 'tolerance']).default('sequential'),
        /** Sequential: look at the live labels this often within a step; once per step (at its bake) when absent. */
        checkEvery: durationAtLeast(MIN_DURATIONS.canaryBake).optional(),
        /** Sequential: the last step keeps baking while the test cannot decide, up to this long; absent: it ends with its bake. */
        maxBake: durationAtLeast(MIN_DURATIONS.canaryBake).optional(),
        /** Sequential, undecided at the end: 'promote' (the offline evaluation stands) or 'rollback'. */
        onInconclusive: z.enum(['promote', 'rollback']).default('promote'),
      })
      .prefault({}),
    /**
     * How the challenger meets live traffic after the gates and the approval. Without `strategy`
     * in the spec: 'shadow-then-canary' when `shadow` is given, else 'canary'.
     */
    deployment: z
      .object({
        strategy: z.enum(DEPLOYMENT_STRATEGIES).default('canary'),
        /** Error rate of each verdict of the sequential tests (canary and A/B), however often they look. */
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        /**
         * The size of difference the sequential tests are tuned to (the mixing distribution's
         * standard deviation): accuracy points for a classifier (default 0.05), a share of the
         * champion's mean squared error for a regression model (default 0.5).
         */
        effectScale: z.number().gt(0).optional(),
        /** strategy 'ab': a fixed split of the traffic, sticky per request `routingKey`. */
        ab: z
          .object({
            /** The challenger's share of the traffic. */
            split: z.number().gt(0).lt(1).default(0.5),
            /** The test ends after this long, unless the sequential test decided earlier. */
            duration: durationAtLeast(MIN_DURATIONS.canaryBake).default('1h'),
            checkEvery: durationAtLeast(MIN_DURATIONS.canaryBake).default('1m'),
            /** Labelled predictions each model needs before the test looks. */
            minSamples: z.number().int().positive().default(20),
            /** How much worse the challenger may be and still be promoted; 0: it must be better (superiority). */
            margin: z.number().min(0).max(1).default(0),
            /** Undecided at the end: 'keep-champion' or 'promote'. */
            onInconclusive: z.enum(['keep-champion', 'promote']).default('keep-champion'),
          })
          .prefault({}),
      })
      .prefault({}),
    /**
     * A shadow phase before the canary: the challenger gets a copy of every request while the
     * champion alone answers, for `bake`; then it is compared with the champion on the same rows
     * (core/shadow.ts). Absent: no shadow phase (`shadow: {}` turns it on with these defaults).
     * Runs only when there is a champion; a shadow that does worse ends the retrain as
     * 'rejected-in-shadow' before any user sees its predictions.
     */
    shadow: z
      .object({
        bake: durationAtLeast(MIN_DURATIONS.canaryBake).default('10m'),
        /** Labelled shadowed rows needed for a live verdict (and shadowed rows for the agreement one); fewer lets it through. */
        minSamples: z.number().int().nonnegative().default(20),
        /** How far shadow accuracy may fall below the champion's (a regression shadow's RMSE rise above it, as a share) on the same rows. */
        tolerance: z.number().min(0).max(1).default(0.05),
        /** Classifiers: the least share of rows on which the shadow must predict the champion's class (0: agreement is reported, not judged). */
        minAgreement: z.number().min(0).max(1).default(0),
      })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    // Drift overrides must name a feature and a test that suits its type.
    const features = new Map(spec.features.map((f) => [f.name, f.type]));
    for (const [name, choice] of Object.entries(spec.monitoring.drift.features)) {
      const path = ['monitoring', 'drift', 'features', name];
      const type = features.get(name);
      if (!type)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `"${name}" is not a feature of this model (features: ${[...features.keys()].join(', ')})`,
        });
      else if (choice.test && !(DRIFT_TESTS[choice.test].features as readonly string[]).includes(type)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'test'],
          message: `${choice.test} does not apply to a ${type} feature (use one of ${Object.entries(DRIFT_TESTS)
            .filter(([, t]) => (t.features as readonly string[]).includes(type))
            .map(([n]) => n)
            .join(', ')})`,
        });
      }
    }
    spec.approval.reviewers.forEach((entry, i) => {
      const group = entry.startsWith('group:') ? entry.slice('group:'.length) : undefined;
      if (group !== undefined && !spec.approval.groups[group]) {
        ctx.addIssue({
          code: 'custom',
          path: ['approval', 'reviewers', i],
          message: `group "${group}" is not defined in approval.groups (groups: ${Object.keys(spec.approval.groups).join(', ') || 'none'})`,
        });
      }
    });
    const fairness = spec.monitoring.fairness;
    if (fairness && !features.has(fairness.column))
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'fairness', 'column'],
        message: `"${fairness.column}" is not a feature of this model`,
      });
    // Accuracy and positive rate per group are a classifier's; a regression model's would need error per group.
    if (fairness && isRegression(spec.label))
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'fairness'],
        message: 'the fairness check (accuracy or positive rate per group) applies to classifiers, not to a regression model',
      });
    // A regression model's predictions rarely coincide: its agreement is a mean difference, not a share.
    if (spec.shadow && spec.shadow.minAgreement > 0 && isRegression(spec.label))
      ctx.addIssue({
        code: 'custom',
        path: ['shadow', 'minAgreement'],
        message: 'minAgreement (a share of rows with the same class) applies to classifiers, not to a regression model',
      });
    if (spec.shadow && spec.deployment.strategy !== 'shadow-then-canary')
      ctx.addIssue({
        code: 'custom',
        path: ['shadow'],
        message: `shadow settings apply to deployment.strategy shadow-then-canary, not ${spec.deployment.strategy}`,
      });
    for (const [i, column] of (spec.evaluation.slices?.columns ?? []).entries())
      if (!features.has(column))
        ctx.addIssue({
          code: 'custom',
          path: ['evaluation', 'slices', 'columns', i],
          message: `"${column}" is not a feature of this model`,
        });
    for (const gate of ['olderData', 'slices'] as const)
      for (const [i, t] of (spec.evaluation[gate]?.thresholds ?? []).entries())
        if (CLASSIFIER_GATE_METRICS.includes(t.metric) === isRegression(spec.label))
          ctx.addIssue({
            code: 'custom',
            path: ['evaluation', gate, 'thresholds', i, 'metric'],
            message: isRegression(spec.label)
              ? `a regression model is judged by rmse or mae, not ${t.metric}`
              : `a classifier is judged by accuracy or log_loss, not ${t.metric}`,
          });
    // An update's batch is validated like any snapshot: a smaller one could never pass.
    const online = spec.training.online;
    if (online && spec.training.mode !== 'online')
      ctx.addIssue({ code: 'custom', path: ['training', 'online'], message: 'online settings apply to training.mode online' });
    if (online && online.batchRows < spec.validation.minRows)
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'online', 'batchRows'],
        message: `an online update learns from ${online.batchRows} rows, fewer than validation.minRows (${spec.validation.minRows}) lets through`,
      });
    const { metric } = spec.training.sweep.objective;
    const regressionMetric = (REGRESSION_OBJECTIVES as readonly string[]).includes(metric);
    if (isRegression(spec.label) !== regressionMetric) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'sweep', 'objective', 'metric'],
        message: isRegression(spec.label)
          ? `a regression model's sweep is judged by ${REGRESSION_OBJECTIVES.join(' or ')}, not ${metric}`
          : `${metric} judges regression models; a classifier's sweep uses val_accuracy or val_log_loss`,
      });
    }
  });

/** `training.mode: online` without settings takes the defaults of `training.online`. */
function onlineDefault(raw: unknown): unknown {
  const spec = raw as { training?: { mode?: unknown; online?: unknown } } | null;
  if (spec?.training?.mode !== 'online' || spec.training.online !== undefined) return raw;
  return { ...spec, training: { ...spec.training, online: {} } };
}

/** Unknown keys anywhere in a spec are errors ("did you mean ..."), not silently dropped for defaults. */
export const ModelSpec = withKnownKeys(
  z.preprocess((raw) => onlineDefault(deploymentDefault(regressionObjectiveDefault(raw))), ModelSpecObject),
);

export type ModelSpec = z.infer<typeof ModelSpec>;
export type FeatureSpec = z.infer<typeof FeatureSpec>;
export type ModelSpecInput = z.input<typeof ModelSpecObject>;
export type TrainingWindow = z.infer<typeof TrainingWindow>;

/** Readable, one line per problem: "policies.drift.pValue: Too big: expected number to be <1". */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}
