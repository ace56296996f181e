/**
 * Training data: a snapshot of the labelled-record window, stored as an artifact of the
 * retrain's MLflow run (so any worker can load it and the lineage is visible), named by the
 * hash of its content; then validated before anything trains on it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ModelSpec } from '../core/spec.ts';
import { isRegression } from '../core/spec-reading.ts';
import { validateRows, type Row, type ValidationReport } from '../core/validation.ts';
import { mulberry32 } from '../core/stats/rng.ts';
import { feedbackSender, type LabelledRecord } from '../adapters/store/index.ts';
import type { ActivityContext } from './context.ts';
import { snapshotDataset } from '../adapters/mlflow/datasets.ts';
import type { RetrainRun, Snapshot, FeedbackAdmission } from '../core/contracts.ts';

export type { Row };

type WindowRecord = { id: number } & LabelledRecord;

export const SNAPSHOT_PATH = 'data/snapshot.json';

export function dataActivities(ctx: ActivityContext) {
  return {
    async snapshotTrainingData(input: {
      spec: ModelSpec;
      retrainRun: RetrainRun;
      /** When the retrain started: anchors a 'lastDays' window, so a retried snapshot reads the same days. */
      asOf?: string;
      /** The last record id the champion learned from, for a 'sinceChampion' window. */
      championTrainedThrough?: number;
    }): Promise<Snapshot> {
      const { spec } = input;
      const window = await ctx.store.readRecords(spec.name, spec.training.window, {
        asOf: input.asOf,
        championTrainedThrough: input.championTrainedThrough,
      });
      const { records, feedback } = admitFeedback(window, feedbackPolicy(spec));
      const rows = records.map((r) => ({ ...r.features, [spec.label.name]: r.label }));
      const body = JSON.stringify(rows);
      const hash = createHash('sha256').update(body).digest('hex');
      const classCounts: Record<string, number> = {};
      // Counting a regression label's distinct numbers would tell nothing and could make this
      // activity result (a workflow payload) as large as the snapshot.
      if (!isRegression(spec.label)) for (const r of records) classCounts[r.label] = (classCounts[r.label] ?? 0) + 1;
      cacheSnapshot(ctx, hash, body);
      await ctx.mlflow.uploadArtifact(input.retrainRun.artifactUri, SNAPSHOT_PATH, body, 'application/json');
      await ctx.mlflow.logBatch(input.retrainRun.runId, {
        params: {
          'data.rows': rows.length,
          'data.sha256': hash,
          'data.window': JSON.stringify(spec.training.window),
          'data.feedback_rows': sum(feedback.kept),
          'data.feedback_dropped': sum(feedback.droppedUnlistedSources) + feedback.droppedOverMaxShare,
        },
      });
      const snapshot: Snapshot = {
        artifactUri: input.retrainRun.artifactUri,
        path: SNAPSHOT_PATH,
        hash,
        rows: rows.length,
        // Of the whole window, dropped feedback included: 'sinceChampion' moves past it too.
        maxRecordId: window.at(-1)?.id ?? 0,
        classCounts,
        feedback,
      };
      await ctx.mlflow.logDatasetInputs(input.retrainRun.runId, [snapshotDataset(spec, snapshot)]);
      return snapshot;
    },

    async validateSnapshot(input: { spec: ModelSpec; snapshot: Snapshot; retrainRun: RetrainRun }): Promise<ValidationReport> {
      const rows = await loadSnapshot(ctx, input.snapshot);
      const report = validateRows(rows, input.spec);
      const dropped = input.snapshot.feedback && describeDroppedFeedback(input.snapshot.feedback, feedbackPolicy(input.spec));
      if (dropped) report.warnings.push(dropped);
      await ctx.mlflow.uploadArtifact(
        input.retrainRun.artifactUri,
        'data/validation.json',
        JSON.stringify(report, null, 2),
        'application/json',
      );
      await ctx.mlflow.logBatch(input.retrainRun.runId, {
        tags: { 'perennial.validation': report.ok ? 'passed' : 'failed' },
        metrics: [{ key: 'data.validation_failures', value: report.failures.length, step: 0 }],
      });
      return report;
    },
  };
}

type FeedbackPolicy = ModelSpec['training']['feedback'];

/** Specs recorded in workflow histories before training.feedback existed let all feedback in. */
const feedbackPolicy = (spec: ModelSpec): FeedbackPolicy => spec.training.feedback ?? { maxShare: 1 };

/**
 * The window's records with feedback limited by spec.training.feedback: only listed senders count,
 * and feedback is at most maxShare of what is kept (the most recent feedback is kept: it is the
 * freshest view of production). Imported records are never dropped. Order is kept (by id).
 */
export function admitFeedback(window: WindowRecord[], policy: FeedbackPolicy): { records: WindowRecord[]; feedback: FeedbackAdmission } {
  const feedback: FeedbackAdmission = { kept: {}, droppedUnlistedSources: {}, droppedOverMaxShare: 0 };
  const listed = (sender: string) => policy.sources === undefined || policy.sources.includes(sender);
  const imported = window.filter((r) => feedbackSender(r.source) === undefined).length;
  const candidates = window.filter((r) => {
    const sender = feedbackSender(r.source);
    if (sender === undefined || listed(sender)) return sender !== undefined;
    feedback.droppedUnlistedSources[sender] = (feedback.droppedUnlistedSources[sender] ?? 0) + 1;
    return false;
  });
  // feedback / (imported + feedback) <= maxShare; maxShare 1 allows any amount.
  const allowed = policy.maxShare >= 1 ? candidates.length : Math.floor((policy.maxShare * imported) / (1 - policy.maxShare) + 1e-9);
  const admitted = new Set(candidates.slice(Math.max(0, candidates.length - allowed)).map((r) => r.id));
  feedback.droppedOverMaxShare = candidates.length - admitted.size;
  const records = window.filter((r) => {
    const sender = feedbackSender(r.source);
    if (sender === undefined) return true;
    if (!admitted.has(r.id)) return false;
    feedback.kept[sender] = (feedback.kept[sender] ?? 0) + 1;
    return true;
  });
  return { records, feedback };
}

/** A line for the validation report when feedback was kept out of the snapshot; undefined when none was. */
export function describeDroppedFeedback(admission: FeedbackAdmission, policy: FeedbackPolicy): string | undefined {
  const unlisted = Object.entries(admission.droppedUnlistedSources).map(([sender, n]) => `${n} from "${sender}"`);
  const parts = [
    ...(unlisted.length
      ? [`${unlisted.join(', ')} (not in training.feedback.sources: ${(policy.sources ?? []).join(', ') || 'none'})`]
      : []),
    ...(admission.droppedOverMaxShare
      ? [`${admission.droppedOverMaxShare} oldest over training.feedback.maxShare ${policy.maxShare}`]
      : []),
  ];
  return parts.length ? `Feedback rows left out of the training window: ${parts.join('; ')}; ${sum(admission.kept)} kept.` : undefined;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

function cacheSnapshot(ctx: ActivityContext, hash: string, body: string) {
  const dir = join(ctx.cacheDir, 'snapshots');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${hash}.json`), body);
}

/** Reads a snapshot from the local cache or MLflow, refusing one whose content changed. */
export async function loadSnapshot(ctx: ActivityContext, snapshot: Snapshot): Promise<Row[]> {
  const cached = join(ctx.cacheDir, 'snapshots', `${snapshot.hash}.json`);
  const body = existsSync(cached)
    ? readFileSync(cached, 'utf8')
    : Buffer.from(await ctx.mlflow.downloadArtifact(snapshot.artifactUri, snapshot.path)).toString('utf8');
  const hash = createHash('sha256').update(body).digest('hex');
  if (hash !== snapshot.hash) {
    throw ApplicationFailure.nonRetryable(`snapshot ${snapshot.path} has hash ${hash}, expected ${snapshot.hash}`, 'SnapshotMismatch');
  }
  if (!existsSync(cached)) cacheSnapshot(ctx, hash, body);
  return JSON.parse(body) as Row[];
}

/**
 * The split every activity agrees on: the most recent `holdoutFraction` of rows is the
 * holdout (challenger vs champion on recent data); the rest is shuffled with the seed into
 * training and validation (candidate selection).
 */
export function splitSnapshot(rows: Row[], holdoutFraction: number, seed: number) {
  const holdoutSize = Math.max(1, Math.round(rows.length * holdoutFraction));
  const holdout = rows.slice(rows.length - holdoutSize);
  const rest = shuffled(rows.slice(0, rows.length - holdoutSize), seed);
  const validationSize = Math.max(1, Math.round(rest.length * 0.2));
  return { train: rest.slice(validationSize), validation: rest.slice(0, validationSize), holdout };
}

/** Fisher-Yates with mulberry32: the same seed gives the same order on every worker. */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  const next = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
