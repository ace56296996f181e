/**
 * The sweep's report for people: a JSON summary and an SVG chart of each trial's objective
 * with the best-so-far curve, both shown by the MLflow UI's artifact viewer.
 */
import type { TrialSummary } from '../core/sweep-loop.ts';
import type { ModelSpec } from '../core/spec.ts';

export function sweepReport(spec: ModelSpec, trials: TrialSummary[], best: number, stoppedBy?: string) {
  const { metric, direction } = spec.training.sweep.objective;
  const better = (a: number, b: number) => (direction === 'maximize' ? a > b : a < b);
  // A trial's score is its objective at the last rung it reached.
  const scores = trials.map((t) => t.objective.at(-1) ?? NaN);
  const bestSoFar: number[] = [];
  scores.forEach((s, i) => bestSoFar.push(i === 0 || better(s, bestSoFar[i - 1]) ? s : bestSoFar[i - 1]));
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
  return { summary, svg: chart(`${spec.name}: ${metric} by trial`, scores, bestSoFar, trials.map((t) => t.state), best) };
}

function chart(title: string, scores: number[], bestSoFar: number[], states: string[], best: number): string {
  const W = 640, H = 360, left = 56, right = 16, top = 36, bottom = 44;
  const finite = scores.filter(Number.isFinite);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const pad = (hi - lo) * 0.1 || 0.05;
  const y0 = lo - pad, y1 = hi + pad;
  const x = (i: number) => left + ((W - left - right) * (i + 0.5)) / Math.max(1, scores.length);
  const y = (v: number) => top + (H - top - bottom) * (1 - (v - y0) / (y1 - y0));
  const ticks = Array.from({ length: 5 }, (_, k) => y0 + ((y1 - y0) * k) / 4);
  const step = bestSoFar.map((v, i) => `${i === 0 ? 'M' : 'H'}${x(i).toFixed(1)}${i === 0 ? ` ${y(v).toFixed(1)}` : ` V${y(v).toFixed(1)}`}`).join(' ');
  const dots = scores
    .map((v, i) =>
      Number.isFinite(v)
        ? `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${i === best ? 6 : 4}" fill="${states[i] === 'completed' ? '#1f77b4' : '#bbbbbb'}"${i === best ? ' stroke="#d62728" stroke-width="2"' : ''}><title>trial ${i}: ${v.toFixed(4)} (${states[i]})</title></circle>`
        : '',
    )
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
  <rect width="${W}" height="${H}" fill="white"/>
  <text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>
  ${ticks.map((t) => `<line x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(3)}</text>`).join('\n  ')}
  <line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}" stroke="#333"/>
  <line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}" stroke="#333"/>
  <text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle">trial</text>
  <path d="${step}" fill="none" stroke="#d62728" stroke-width="2"/>
  ${dots}
  <text x="${W - right}" y="${top - 6}" text-anchor="end"><tspan fill="#d62728">— best so far</tspan>  <tspan fill="#1f77b4">● completed</tspan>  <tspan fill="#999">● pruned</tspan></text>
</svg>
`;
}

const escape = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
