/**
 * Feedback on served predictions (explicit labels, accepted, overridden) resolved into the
 * truth / predicted / correct arrays the other metrics take.
 *
 * PURE module: no Node, tfjs or npm imports (it may be imported by Temporal workflow code), so it
 * stays deterministic and free of I/O.
 */

/**
 * What a user told us about one prediction:
 * - label: the true class, explicitly;
 * - accepted: the prediction was right (implicit: the user went on with it);
 * - overridden: the prediction was wrong, optionally with the class the user chose instead.
 */
export type Feedback = { kind: 'label'; label: string } | { kind: 'accepted' } | { kind: 'overridden'; label?: string };

export interface FeedbackItem {
  predicted: string;
  feedback: Feedback;
}

export interface ResolvedFeedback {
  n: number;
  /** One entry per item: was the prediction right? */
  correct: boolean[];
  /** Share of correct items, over ALL items (overrides without a label included); NaN when n = 0. */
  accuracy: number;
  /** Items whose true class is known, for classificationReport: their truth and prediction... */
  truth: string[];
  predicted: string[];
  /** ...and their positions in the input, to pick the matching probabilities or groups. */
  index: number[];
  /** Overrides without a label: wrong, but their true class is unknown. */
  unknownTruth: number;
}

/**
 * Turns feedback into the arrays the metrics above take. The true class is `label` for explicit
 * labels, the prediction itself for 'accepted', and the given label for 'overridden'. An override
 * WITHOUT a label counts as wrong in `correct` / `accuracy`, but is left out of truth / predicted
 * (and so out of per-class metrics and log loss): we know the prediction was wrong, not which
 * class was right. An override whose label equals the prediction is taken at its label's word
 * (correct), so `correct` always agrees with truth === predicted where the truth is known.
 * Consequently classificationReport(truth, predicted).accuracy is over labelled items only and
 * can exceed `accuracy` here.
 */
export function resolveFeedback(items: readonly FeedbackItem[]): ResolvedFeedback {
  const correct: boolean[] = [];
  const truth: string[] = [];
  const predicted: string[] = [];
  const index: number[] = [];
  let unknownTruth = 0;
  items.forEach((item, i) => {
    const label = trueLabel(item);
    if (label === undefined) {
      correct.push(false);
      unknownTruth++;
      return;
    }
    correct.push(label === item.predicted);
    truth.push(label);
    predicted.push(item.predicted);
    index.push(i);
  });
  const hits = correct.filter(Boolean).length;
  return { n: items.length, correct, accuracy: items.length === 0 ? NaN : hits / items.length, truth, predicted, index, unknownTruth };
}

function trueLabel({ predicted, feedback }: FeedbackItem): string | undefined {
  switch (feedback.kind) {
    case 'label':
      return feedback.label;
    case 'accepted':
      return predicted;
    case 'overridden':
      return feedback.label;
  }
}
