/**
 * Training data: a snapshot of the labelled-record window, stored as an artifact of the
 * retrain's MLflow run (so any worker can load it and the lineage is visible), named by the
 * hash of its content; then validated before anything trains on it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { isRegression, type ModelSpec } from '../core/spec.ts';
import { validateRows, type ValidationReport } from '../core/validation.ts';
import type { ActivityContext } from './context.ts';
import type { RetrainRun } from './tracking.ts';

export type Row = Record<string, unknown>;

export interface Snapshot {
  artifactUri: string;
  path: string;
  hash: string;
  rows: number;
  maxRecordId: number;
  /** Records per label; {} for a regression model, whose labels are numbers, not classes. */
  classCounts: Record<string, number>;
}

const SNAPSHOT_PATH = 'data/snapshot.json';

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
      const records = ctx.store.readRecords(spec.name, spec.training.window, { asOf: input.asOf, championTrainedThrough: input.championTrainedThrough });
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
        params: { 'data.rows': rows.length, 'data.sha256': hash, 'data.window': JSON.stringify(spec.training.window) },
      });
      return {
        artifactUri: input.retrainRun.artifactUri,
        path: SNAPSHOT_PATH,
        hash,
        rows: rows.length,
        maxRecordId: records.at(-1)?.id ?? 0,
        classCounts,
      };
    },

    async validateSnapshot(input: { spec: ModelSpec; snapshot: Snapshot; retrainRun: RetrainRun }): Promise<ValidationReport> {
      const rows = await loadSnapshot(ctx, input.snapshot);
      const report = validateRows(rows, input.spec);
      await ctx.mlflow.uploadArtifact(input.retrainRun.artifactUri, 'data/validation.json', JSON.stringify(report, null, 2), 'application/json');
      await ctx.mlflow.logBatch(input.retrainRun.runId, {
        tags: { 'perennial.validation': report.ok ? 'passed' : 'failed' },
        metrics: [{ key: 'data.validation_failures', value: report.failures.length, step: 0 }],
      });
      return report;
    },
  };
}

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
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
