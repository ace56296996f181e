/**
 * The sweep's report for people: a JSON summary and a chart of each trial's objective with the
 * best-so-far curve (SVG, and the Vega-Lite spec it was drawn from), shown by the MLflow UI's
 * artifact viewer.
 */
import { renderChart } from '../adapters/charts/render.ts';
import { sweepObjectiveChart } from '../adapters/charts/sweep-objective.ts';
import type { TrialSummary } from '../core/sweep-loop.ts';
import type { ModelSpec } from '../core/spec.ts';
import { orient, rankValue } from '../core/sweep-plan.ts';

export async function sweepReport(spec: ModelSpec, trials: TrialSummary[], best: number, stoppedBy?: string) {
  const { metric, direction } = spec.training.sweep.objective;
  // A trial's score is its objective at the last rung it reached.
  const scores = trials.map((t) => t.objective.at(-1) ?? NaN);
  // Best so far: the score of the trial the sweep would pick had it stopped after trial i, the
  // same rule as core/sweep-plan.ts bestTrial: the highest rung reached first, then the score.
  const rank = (t: TrialSummary) => [t.objective.length, rankValue(orient(t.objective.at(-1) ?? NaN, direction))];
  const beats = (a: TrialSummary, b: TrialSummary) => {
    const [ra, va] = rank(a),
      [rb, vb] = rank(b);
    return ra > rb || (ra === rb && va > vb);
  };
  const bestSoFar: number[] = [];
  let leader = 0;
  trials.forEach((t, i) => {
    if (i > 0 && beats(t, trials[leader])) leader = i;
    bestSoFar.push(scores[leader]);
  });
  const summary = {
    model: spec.name,
    objective: `${direction} ${metric}`,
    sampler: spec.training.sweep.sampler,
    seed: spec.training.sweep.seed,
    best: trials[best],
    stoppedBy: stoppedBy ?? null,
    trials,
    bestSoFar,
  };
  const chart = await renderChart(
    sweepObjectiveChart({
      title: `${spec.name}: ${metric} by trial`,
      subtitle: `${direction}; trial ${trials[best].trial} chosen`,
      metric,
      chosen: trials[best].trial,
      trials: trials.map((t, i) => ({
        trial: t.trial,
        state: t.state,
        // null, not NaN: the spec is saved as JSON.
        score: Number.isFinite(scores[i]) ? scores[i] : null,
        bestSoFar: Number.isFinite(bestSoFar[i]) ? bestSoFar[i] : null,
      })),
    }),
  );
  return { summary, chart };
}
