/**
 * The sweep's report for people: a JSON summary and an SVG chart of each trial's objective
 * with the best-so-far curve, both shown by the MLflow UI's artifact viewer.
 */
import type { TrialSummary } from '../core/sweep-loop.ts';
import type { ModelSpec } from '../core/spec.ts';
import { orient, rankValue } from '../core/sweep-plan.ts';

export function sweepReport(spec: ModelSpec, trials: TrialSummary[], best: number, stoppedBy?: string) {
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
  return {
    summary,
    svg: chart(
      `${spec.name}: ${metric} by trial`,
      scores,
      bestSoFar,
      trials.map((t) => t.state),
      best,
    ),
  };
}

function chart(title: string, scores: number[], bestSoFar: number[], states: string[], best: number): string {
  const W = 640,
    H = 360,
    left = 56,
    right = 16,
    top = 48,
    bottom = 44;
  const finite = scores.filter(Number.isFinite);
  const lo = Math.min(...finite),
    hi = Math.max(...finite);
  const pad = (hi - lo) * 0.1 || 0.05;
  const y0 = lo - pad,
    y1 = hi + pad;
  const x = (i: number) => left + ((W - left - right) * (i + 0.5)) / Math.max(1, scores.length);
  const y = (v: number) => top + (H - top - bottom) * (1 - (v - y0) / (y1 - y0));
  const ticks = Array.from({ length: 5 }, (_, k) => y0 + ((y1 - y0) * k) / 4);
  // At most about 10 labelled trials on the x axis.
  const every = Math.max(1, Math.ceil(scores.length / 10));
  const trialTicks = scores.map((_, i) => i).filter((i) => i % every === 0);
  // One <text> per legend entry: renderers disagree on anchoring a run of <tspan>s.
  const legend = [
    { label: 'best so far', mark: `<line x1="0" x2="16" y1="-4" y2="-4" stroke="#d62728" stroke-width="2"/>` },
    { label: 'completed', mark: `<circle cx="8" cy="-4" r="4" fill="#1f77b4"/>` },
    { label: 'pruned', mark: `<circle cx="8" cy="-4" r="4" fill="#bbbbbb"/>` },
  ];
  const step = bestSoFar
    .map((v, i) => `${i === 0 ? 'M' : 'H'}${x(i).toFixed(1)}${i === 0 ? ` ${y(v).toFixed(1)}` : ` V${y(v).toFixed(1)}`}`)
    .join(' ');
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
  ${trialTicks.map((i) => `<text x="${x(i).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${i}</text>`).join('\n  ')}
  <text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle">trial</text>
  <path d="${step}" fill="none" stroke="#d62728" stroke-width="2"/>
  ${dots}
  ${legend.map((e, k) => `<g transform="translate(${left + 8 + k * 120}, ${top - 10})">${e.mark}<text x="22" y="0">${e.label}</text></g>`).join('\n  ')}
</svg>
`;
}

const escape = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
