/**
 * What a feedback label and a feedback record's source are, and what a feedback row reads as,
 * whichever database keeps them: the rules behind Store.addFeedback and feedbackSince that are
 * not SQL.
 */
import { parseNumeric } from '../../core/validation.ts';
import { LabelTypeError } from '../../core/errors.ts';
import type { FeedbackEvent, FeedbackKind, Task } from './types.ts';

/** Who sent feedback: the name of the API key it came with, or 'anonymous'. */
export const ANONYMOUS = 'anonymous';
const FEEDBACK_SOURCE_PREFIX = 'feedback:';

/** The source of the record a feedback label becomes: 'feedback:<sender>'. */
export function feedbackSource(sender: string): string {
  return FEEDBACK_SOURCE_PREFIX + sender;
}

/**
 * Records made from feedback have source 'feedback:<sender>' (before API keys: 'feedback', which
 * was anonymous). The sender of such a record; undefined for an imported record.
 */
export function feedbackSender(recordSource: string): string | undefined {
  if (recordSource === 'feedback') return ANONYMOUS;
  return recordSource.startsWith(FEEDBACK_SOURCE_PREFIX) ? recordSource.slice(FEEDBACK_SOURCE_PREFIX.length) : undefined;
}

/**
 * A feedback label as the log keeps it: a classifier's class as given (a string; a JSON number is
 * refused rather than guessed to be a class name); a regression model's true value as the text of
 * the number, so 12.5, "12.50" and " 12.5" are one label to idempotency and to training.
 * `classes`: the classes the prediction's model can output (the keys of its probabilities).
 */
export function storedLabel(predictionId: string, task: Task, classes: string[], label: string | number | undefined): string | undefined {
  if (label === undefined) return undefined;
  if (task === 'regression') {
    const parsed = parseNumeric(label);
    if (parsed.kind !== 'number') throw new LabelTypeError(predictionId, label, { task: 'regression' });
    return String(parsed.value);
  }
  if (typeof label !== 'string') throw new LabelTypeError(predictionId, label, { task: 'classification', classes });
  return label;
}

/** A feedback as FeedbackConflictError names it: the label, or the kind with its label if any. */
export const describeFeedback = (kind: string, label: string | null) =>
  kind === 'label' ? String(label) : label === null ? kind : `${kind}: ${label}`;

/** A feedback row joined with its prediction (feedbackSince's query), its JSON columns parsed. */
export type FeedbackRow = Omit<FeedbackEvent, 'feedback'> & { kind: FeedbackKind; label: string | null };

/** The row as monitoring reads it: the kind and label as one feedback, the label present where the kind has one. */
export function feedbackEvent({ kind, label, ...prediction }: FeedbackRow): FeedbackEvent {
  const feedback: FeedbackEvent['feedback'] =
    kind === 'overridden'
      ? label === null
        ? { kind: 'overridden' }
        : { kind: 'overridden', label }
      : kind === 'accepted'
        ? { kind: 'accepted' }
        : { kind: 'label', label: label! };
  return { ...prediction, feedback };
}
