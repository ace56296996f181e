/**
 * The label queue's disagreement strategy while a canary runs (and no shadow does). Champion and
 * canary never answer the same request, so the log holds one answer per row; here each recent
 * unlabelled row that one of them served is put to the other, and the rows where the two answer
 * most differently come first: the labels that best tell the two apart. The other's answer is
 * computed for the queue only, never logged.
 */
import type { LabelQueueItem, LogSince, Store } from '../adapters/store/index.ts';
import type { Prediction } from '../ml/bundle.ts';
import type { Target } from './deployments.ts';
import { guardInputRange } from './input-range.ts';

/** The newest unlabelled rows that are compared: bounds the work of one request (one tensor call per version). */
export const CANARY_POOL = 2000;

/**
 * `targetsNow` gives the deployment's champion and canary. They are read again after the store
 * has answered, and used synchronously from there to predicting: a redeploy while the store
 * reads could have disposed the predictors read before.
 */
export async function canaryDisagreements(
  store: Store,
  model: string,
  targetsNow: () => Target[],
  since: LogSince,
  limit: number,
): Promise<LabelQueueItem[]> {
  const pool = await store.unlabelledPredictions(
    model,
    targetsNow().map((t) => t.version),
    since,
    CANARY_POOL,
  );
  const targets = targetsNow();
  const compared = targets.flatMap((served) => {
    // None when the canary ended while the store read.
    const other = targets.find((t) => t !== served);
    const items = pool.filter((item) => item.version === served.version);
    if (!other || !items.length) return [];
    // The log keeps the features of the deployment at the time: one the other needs may be absent.
    const rows = items.map((item) => Object.fromEntries(other.predictor.features.map((f) => [f, item.features[f] ?? null])));
    const answers = other.predictor.predict(guardInputRange(rows, other.predictor.preprocessor).rows);
    return items.map((item, i) => withOther(item, other, answers[i]));
  });
  return compared.sort(mostDisagreementFirst).slice(0, limit);
}

function withOther(item: LabelQueueItem, other: Target, answer: Prediction): LabelQueueItem {
  const regression = item.task === 'regression';
  const disagreement = regression
    ? Math.abs(Number(item.label) - Number(answer.label))
    : totalVariation(item.probabilities, answer.probabilities);
  return {
    ...item,
    other: {
      version: other.version,
      role: other.role,
      label: answer.label,
      confidence: regression ? null : (answer.probabilities[answer.label] ?? null),
      probabilities: answer.probabilities,
    },
    disagreement,
  };
}

/** Over the classes both name, as the store ranks shadow pairs. */
function totalVariation(a: Record<string, number>, b: Record<string, number>): number {
  let sum = 0;
  for (const c of Object.keys(a)) if (c in b) sum += Math.abs(a[c] - b[c]);
  return sum / 2;
}

/** As the store orders shadow pairs: different labels first (classifiers), then the larger disagreement, then the newer. */
function mostDisagreementFirst(x: LabelQueueItem, y: LabelQueueItem): number {
  const differs = (i: LabelQueueItem) => Number(i.task === 'classification' && i.label !== i.other!.label);
  return differs(y) - differs(x) || y.disagreement! - x.disagreement! || y.seq - x.seq;
}
