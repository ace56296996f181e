/**
 * What code asks of a parsed spec, apart from its schemas (spec.ts). Workflows import these and
 * not spec.ts: every cached workflow evaluates the modules it imports in its own sandbox, and
 * building spec.ts's schemas costs each one about a megabyte.
 */
import type { DeploymentStrategy, LabelSpec, ModelSpec } from './spec.ts';

/** A task queue's training queue is its name with this suffix (core/messages.ts trainingTaskQueue). */
export const TRAINING_QUEUE_SUFFIX = '-training';

export const isRegression = (label: LabelSpec): label is Extract<LabelSpec, { type: 'number' }> => label.type === 'number';

/** A classification label's classes; [] for a regression label. */
export const labelClasses = (label: LabelSpec): string[] => (isRegression(label) ? [] : label.classes);

/**
 * The spec's deployment strategy. Specs recorded in workflow histories before strategies existed
 * have no `deployment`: theirs is read from `shadow` as it was then.
 */
export function strategyOf(spec: Pick<ModelSpec, 'shadow'> & { deployment?: { strategy?: DeploymentStrategy } }): DeploymentStrategy {
  return spec.deployment?.strategy ?? (spec.shadow ? 'shadow-then-canary' : 'canary');
}

/**
 * Whether `reviewer` may approve or reject this model's challengers: named in
 * `approval.reviewers` or a member of a group named there; anyone when the list is empty.
 */
export function mayReview(approval: ModelSpec['approval'], reviewer: string): boolean {
  // Specs recorded in histories from before these fields have neither.
  const reviewers = approval.reviewers ?? [];
  if (reviewers.length === 0) return true;
  return reviewers.some((entry) =>
    entry.startsWith('group:') ? (approval.groups?.[entry.slice('group:'.length)] ?? []).includes(reviewer) : entry === reviewer,
  );
}
