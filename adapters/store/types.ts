/**
 * What the store keeps, in the domain's terms: the rows callers hand to it and get back from it,
 * whichever database implements `Store` (store.ts).
 */
import type { Moments } from '../../core/sequential/difference-of-means.ts';

export interface DeploymentState {
  champion: { version: string };
  canary?: { version: string; weight: number };
  /** Gets a copy of every request after its response is sent; its predictions are logged, never returned. */
  shadow?: { version: string };
  updatedAt: string;
  reason: string;
}

/** 'shadow' predictions were logged but never served (DeploymentState.shadow). */
export type Role = 'champion' | 'canary' | 'shadow';
export type Features = Record<string, unknown>;
/** What the predicting model does (ml/bundle.ts Predictor.task); stored with every prediction. */
export type Task = 'classification' | 'regression';

export interface LabelledRecord {
  features: Features;
  label: string;
  source: string;
}

export interface PredictionLog {
  id: string;
  model: string;
  version: string;
  role: Role;
  /** Default 'classification'. */
  task?: Task;
  features: Features;
  /** The predicted class; a regression model's predicted number as text (String(value)). */
  label: string;
  /** The predicted class's probability; null for a regression model, which has none. */
  confidence: number | null;
  /** {} for a regression model. */
  probabilities: Record<string, number>;
  /** A shadow prediction's served twin: the id of the prediction made from the same input and returned. */
  shadowOf?: string;
}

export interface LabelledPrediction {
  feedbackId: number;
  version: string;
  role: Role;
  predicted: string;
  truth: string;
}

/** A regression version's live errors: MAE, RMSE and the moments of its squared errors. */
export interface LiveErrors {
  n: number;
  mae: number;
  rmse: number;
  squaredErrors: Moments;
}

export type FeedbackKind = 'label' | 'accepted' | 'overridden';

/** What a user said about a prediction: its true label, that it was right, or that it was wrong. */
export interface FeedbackInput {
  kind?: FeedbackKind;
  /**
   * Required for 'label'; optional for 'overridden'; ignored for 'accepted'. A classifier's class
   * (a string); a regression model's true value, a finite number or numeric string, stored as the
   * text of the number (String(Number(label))) like every label.
   */
  label?: string | number;
}

/**
 * One request's writes to the log, for group commit (PredictionLogStore.writeLog): its predictions,
 * or its feedback (all or nothing, as addFeedbackMany).
 */
export type LogWrite =
  | { kind: 'predictions'; rows: PredictionLog[] }
  | { kind: 'feedback'; items: Array<{ predictionId: string } & FeedbackInput>; model?: string; sender?: string };

/** A LogWrite's outcome: feedback ids in order (none for predictions), or why it was refused. */
export type LogWriteResult =
  | {
      ok: true;
      ids: number[];
      /** Of a feedback write: how many of its predictions the label queue had offered (LabelQueueStore). */
      offered?: number;
    }
  | { ok: false; error: unknown };

export interface FeedbackEvent {
  feedbackId: number;
  version: string;
  role: Role;
  predicted: string;
  feedback: { kind: 'label'; label: string } | { kind: 'accepted' } | { kind: 'overridden'; label?: string };
  probabilities: Record<string, number>;
  features: Features;
}

export interface LoggedPrediction {
  seq: number;
  version: string;
  role: Role;
  features: Features;
  label: string;
  probabilities: Record<string, number>;
}

/** A source's records of one model: in service (records) and quarantined. */
export interface SourceSummary {
  source: string;
  records: number;
  quarantined: number;
  firstId: number;
  lastId: number;
  firstAt: string;
  lastAt: string;
}

export interface StoreOptions {
  /** Time source for created_at columns; tests pin it to make "since" windows exact. */
  now?: () => Date;
  /**
   * SQLite's `synchronous` for this connection. 'normal' (the default, with WAL): a commit
   * survives a crash of the process, but a power loss or OS crash may undo the last commits.
   * 'full': every commit is on disk (fsync) before it returns, so a power loss undoes none.
   */
  synchronous?: 'normal' | 'full';
}

export interface AlertClaim {
  /** The idempotency key: the same id is the same alert, however often it is sent. */
  id: string;
  model: string;
  kind: string;
  dedupKey?: string;
}

export interface AlertSuppression {
  reason: string;
  detail: string;
}

export interface AlertLedgerEntry extends AlertClaim {
  /** ms since the epoch, from the store's clock. */
  at: number;
  suppressed?: AlertSuppression;
  delivered: string[];
}

export interface ApiKeyInfo {
  name: string;
  createdAt: string;
  revokedAt?: string;
}

/** Which predictions an export starts from: those after a seq, and/or made at or after a time. */
export interface LogSince {
  afterSeq?: number;
  /** An ISO time; RangeError when it is not one. */
  fromTime?: string;
}

/** A logged prediction as exported: what went in, what came out, and the feedback on it. */
export interface ExportedPrediction {
  seq: number;
  id: string;
  createdAt: string;
  version: string;
  role: Role;
  task: Task;
  features: Features;
  /** The predicted class; a regression model's predicted number as text. */
  label: string;
  confidence: number | null;
  probabilities: Record<string, number>;
  shadowOf: string | null;
  feedback: { kind: FeedbackKind; label: string | null; source: string; createdAt: string } | null;
}

/** How the label queue ranks the served predictions that have no feedback yet. */
export type LabelQueueStrategy = 'confidence' | 'disagreement';

export interface LabelQueueQuery {
  /**
   * 'confidence': a classifier's predictions, lowest confidence first. 'disagreement': the served
   * predictions that have a shadow twin, those whose two labels differ first, then by how far
   * apart the two answers are (LabelQueueItem.disagreement).
   */
  strategy: LabelQueueStrategy;
  limit: number;
  since: LogSince;
}

/** A served prediction offered for labelling: what went in, what came out, and (disagreement) the other model's answer. */
export interface LabelQueueItem extends Pick<
  ExportedPrediction,
  'seq' | 'createdAt' | 'version' | 'role' | 'task' | 'features' | 'label' | 'confidence' | 'probabilities'
> {
  predictionId: string;
  /**
   * Strategy 'disagreement': the other model's answer to the same input: the shadow's logged
   * prediction, or the other served version's answer computed for the queue (no predictionId).
   */
  other?: Pick<LabelQueueItem, 'version' | 'role' | 'label' | 'confidence' | 'probabilities'> & { predictionId?: string };
  /**
   * Strategy 'disagreement': a classifier's total variation distance between the two probability
   * vectors (0: the same, 1: no class in common); a regression model's |served - other|.
   */
  disagreement?: number;
}

/** Of a model's predictions the label queue ever offered: how many, and how many have feedback since. */
export interface LabelQueueSummary {
  offered: number;
  labelled: number;
}
