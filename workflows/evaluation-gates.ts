/**
 * The evaluation gates in the retrain (spec `evaluation`: olderData, slices, size, speed): after the
 * challenger beat the champion on the recent holdout and before it is registered, so a failed gate
 * stops it before any traffic. Every gate's verdict is a decision with its numbers; the results
 * are in the retrain's status and, with every number, in MLflow (activities/evaluation-gates.ts).
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { GATE_TITLES, gatesOf } from '../core/gates/result.ts';
import { LONGER_CALL } from './activity-options.ts';
import { EVALUATION_GATES_PATCH } from './legacy/patches.ts';
import type { RetrainProgress } from './retrain.ts';

const { runEvaluationGates } = proxyActivities<Activities>(LONGER_CALL);

type GatesInput = Omit<Parameters<Activities['runEvaluationGates']>[0], 'spec'>;

/**
 * 'failed-gate' when any gate fails (every gate runs, so all numbers are recorded). A spec that
 * names no gate (every spec recorded before the gates existed) passes without a step, so those
 * histories replay unchanged.
 */
export async function passEvaluationGates(progress: RetrainProgress, input: GatesInput): Promise<'passed' | 'failed-gate'> {
  const { spec, decide } = progress;
  if (gatesOf(spec).length === 0 || !patched(EVALUATION_GATES_PATCH)) return 'passed';
  progress.enterStage('gates');
  const results = await runEvaluationGates({ spec, ...input });
  progress.gates = results;
  for (const r of results) decide(`${GATE_TITLES[r.gate]} gate ${r.skipped ? 'skipped' : r.passed ? 'passed' : 'failed'}`, ...r.lines);
  const failed = results.filter((r) => !r.passed);
  if (failed.length === 0) return 'passed';
  const what = `challenger failed the ${failed.map((r) => GATE_TITLES[r.gate]).join(', ')} gate${failed.length > 1 ? 's' : ''}: keeping the champion`;
  const reasons = failed.flatMap((r) => r.lines.map((line) => `${GATE_TITLES[r.gate]}: ${line}`));
  decide(what, ...reasons);
  // Whoever follows the model's retrains hears why this one stopped, as they hear of a rollback.
  await progress.notify({ kind: 'retrain', title: `${spec.name}: ${what}`, text: reasons.join('\n'), fields: { outcome: 'failed-gate' } });
  return 'failed-gate';
}
