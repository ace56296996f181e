/**
 * The data that crosses between workflows and activities: what an activity returns and a
 * workflow keeps or passes on. Workflows import these from here, so their bundle never pulls
 * in an activity's implementation.
 */
import type { DetectorStates } from './monitoring-cycle.ts';
import type { MonitoringSummary } from './monitoring.ts';

/** A trained model in memory: the four files of `ml/bundle.ts`, uploaded as-is to MLflow. */
export type ModelFiles = Record<string, Uint8Array>;

/** The MLflow run of one retrain; sweeps and trials nest below it. */
export interface RetrainRun {
  experimentId: string;
  runId: string;
  artifactUri: string;
}

/** Per fired rule, the values that made it fire (core/policy.ts FiredRule.values). */
export type TriggerValues = Record<string, Record<string, number>>;

/** A retrain's training data, frozen as an MLflow artifact so every trial reads the same rows. */
export interface Snapshot {
  artifactUri: string;
  path: string;
  hash: string;
  rows: number;
  maxRecordId: number;
  /** Records per label; {} for a regression model, whose labels are numbers, not classes. */
  classCounts: Record<string, number>;
  /** What spec.training.feedback let in and kept out (absent in snapshots taken before it existed). */
  feedback?: FeedbackAdmission;
}

/** Feedback records in a window, by sender (an API key's name, or 'anonymous'). */
export interface FeedbackAdmission {
  kept: Record<string, number>;
  /** Senders not in spec.training.feedback.sources. */
  droppedUnlistedSources: Record<string, number>;
  /** The oldest feedback beyond spec.training.feedback.maxShare of the window. */
  droppedOverMaxShare: number;
}

/** Where monitoring of one champion stands, carried by the lifecycle from cycle to cycle. */
export interface MonitorCursors {
  championVersion: string;
  cycle: number;
  /** Last feedback id judged. */
  feedback: number;
  /** Last prediction (seq) whose inputs were tested for drift. */
  predictions: number;
  /** Last prediction (seq) counted in newRows. */
  counted: number;
  detectors: DetectorStates;
}

export interface MonitorResult {
  summary: MonitoringSummary;
  cursors: MonitorCursors;
}
