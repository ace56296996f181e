/** A row of SqlitePredictionLog's export query (a prediction joined with its feedback), and its domain shape. */
import type { ExportedPrediction, FeedbackKind, Role, Task } from '../types.ts';

export interface ExportRow {
  seq: number;
  id: string;
  createdAt: string;
  version: string;
  role: Role;
  task: Task;
  features: string;
  label: string;
  confidence: number | null;
  probabilities: string;
  shadowOf: string | null;
  feedbackKind: FeedbackKind | null;
  feedbackLabel: string | null;
  feedbackSource: string | null;
  feedbackAt: string | null;
}

export function exported(r: ExportRow): ExportedPrediction {
  const { feedbackKind, feedbackLabel, feedbackSource, feedbackAt, features, probabilities, ...prediction } = r;
  return {
    ...prediction,
    features: JSON.parse(features),
    probabilities: JSON.parse(probabilities),
    feedback: feedbackKind === null ? null : { kind: feedbackKind, label: feedbackLabel, source: feedbackSource!, createdAt: feedbackAt! },
  };
}
