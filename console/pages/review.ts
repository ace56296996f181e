/**
 * A retrain waiting for approval, with the evidence a reviewer decides on: what triggered it,
 * the sweep that found the challenger, the holdout and the evaluation gates, and what happens
 * after an approval (the live test the spec plans). The Approve and Reject buttons post the
 * decision back to the console, which checks the reviewer before anything reaches the workflow.
 */
import type { Decision } from '../../core/messages.ts';
import { describeConfig } from '../../core/search-space.ts';
import { mayReview, strategyOf } from '../../core/spec-reading.ts';
import type { ModelSpec } from '../../core/spec.ts';
import type { Links } from '../links.ts';
import type { RetrainView } from '../model-view.ts';
import type { Session } from '../sessions.ts';
import { html, type Html } from './html.ts';

export const AWAITING_APPROVAL = 'awaiting-approval';

const decisionsStarting = (decisions: Decision[], prefix: string) => decisions.filter((d) => d.what.startsWith(prefix));

function decisionLines(decisions: Decision[]): Html {
  return html`${decisions.map((d) => html`<li><b>${d.what}</b>${d.reasons.length ? html`: ${d.reasons.join('; ')}` : ''}</li>`)}`;
}

/** Who may review, groups spelt out: `group:ops (bo, cy)`. */
export function allowedReviewers(approval: ModelSpec['approval']): string {
  const reviewers = approval.reviewers ?? [];
  if (reviewers.length === 0) return 'anyone (approval.reviewers is empty)';
  return reviewers
    .map((entry) => (entry.startsWith('group:') ? `${entry} (${(approval.groups?.[entry.slice(6)] ?? []).join(', ')})` : entry))
    .join(', ');
}

/** What happens after an approval, from the spec the retrain runs with. */
export function livePlan(spec: ModelSpec, championVersion: string | undefined): string[] {
  if (!championVersion) return ['no champion yet: the challenger becomes champion once approved, with no live test'];
  const strategy = strategyOf(spec);
  const alpha = spec.deployment?.alpha;
  const lines: string[] = [];
  if (strategy === 'direct') return ['direct deployment: promoted once approved, with no live test'];
  if (strategy === 'shadow-then-canary' && spec.shadow) {
    lines.push(
      `shadow for ${spec.shadow.bake}: the challenger answers a copy of live traffic, the champion alone answers users; needs ${spec.shadow.minSamples} labelled rows, tolerance ${spec.shadow.tolerance}`,
    );
  }
  if (strategy === 'ab') {
    const ab = spec.deployment.ab;
    lines.push(
      `A/B test: ${Math.round(ab.split * 100)}% of traffic to the challenger for up to ${ab.duration}, looking every ${ab.checkEvery} after ${ab.minSamples} labelled predictions each; margin ${ab.margin}; undecided: ${ab.onInconclusive}${alpha ? `; alpha ${alpha}` : ''}`,
    );
    return lines;
  }
  const canary = spec.canary;
  lines.push(
    `canary: ${canary.steps.map((s) => `${Math.round(s.weight * 100)}% of traffic for ${s.bake}`).join(', then ')}; rolls back by itself when worse`,
    `verdict ${canary.verdict ?? 'tolerance'}: tolerance ${canary.tolerance}, at least ${canary.minSamples} labelled canary predictions${canary.onInconclusive ? `, undecided: ${canary.onInconclusive}` : ''}${alpha ? `; alpha ${alpha}` : ''}`,
  );
  return lines;
}

export function reviewSection(retrain: RetrainView, session: Session, links: Links, model: string): Html {
  const { status, start } = retrain;
  const spec = start?.spec;
  const allowed = spec ? mayReview(spec.approval, session.reviewer) : false;
  const challenger = status.challengerVersion;
  const holdout = decisionsStarting(status.decisions, 'challenger beats the champion');
  const sweepDecisions = decisionsStarting(status.decisions, 'best trial');
  const snapshot = decisionsStarting(status.decisions, 'snapshot of');
  return html`<section id="review" class="evidence">
    <h2>Retrain ${start ? `#${start.n} ` : ''}awaits review: challenger ${challenger ? `v${challenger}` : ''}</h2>
    <p class="small">
      <a href="${links.workflow(retrain.workflowId, retrain.runId)}">retrain workflow in Temporal</a>
      ${challenger ? html` · <a href="${links.modelVersion(model, challenger)}">challenger v${challenger} in MLflow</a>` : ''}
      ${retrain.mlflowRun ? html` · <a href="${links.run(retrain.mlflowRun.experimentId, retrain.mlflowRun.runId)}">retrain run in MLflow</a>` : ''}
    </p>
    <h3>Trigger</h3>
    <p id="trigger">
      ${status.trigger}${start?.trigger.rules.length ? html` <span class="muted">(rules: ${start.trigger.rules.join(', ')})</span>` : ''}
    </p>
    ${start?.trigger.values ? triggerValues(start.trigger.values) : ''}
    <h3>Holdout</h3>
    <ul id="holdout">
      ${holdout.length ? decisionLines(holdout) : html`<li class="muted">no holdout verdict recorded</li>`} ${decisionLines(snapshot)}
    </ul>
    <h3>Evaluation gates</h3>
    ${
      status.gates?.length
        ? html`<table id="gates">
            <tr>
              <th>gate</th>
              <th>verdict</th>
              <th>what was measured</th>
            </tr>
            ${status.gates.map(
              (g) =>
                html`<tr>
                  <td>${g.gate}</td>
                  <td>${g.skipped ? 'skipped' : g.passed ? 'passed' : 'failed'}</td>
                  <td class="small">${g.lines.join('; ')}</td>
                </tr>`,
            )}
          </table>`
        : html`<p class="muted">The spec names no evaluation gate.</p>`
    }
    <h3>Sweep</h3>
    <ul>
      ${decisionLines(sweepDecisions)}
    </ul>
    ${retrain.sweep ? sweepTable(retrain.sweep) : ''}
    <h3>After an approval</h3>
    <ul id="plan">
      ${(spec ? livePlan(spec, start?.championVersion) : ['the retrain\u2019s spec could not be read']).map((l) => html`<li>${l}</li>`)}
    </ul>
    <h3>Decision</h3>
    ${
      spec
        ? html`<p class="small">
            Allowed reviewers: ${allowedReviewers(spec.approval)}. Without a review within ${spec.approval.timeout} the retrain is
            ${spec.approval.onTimeout === 'approve' ? 'approved' : 'rejected'}.
          </p>`
        : ''
    }
    ${
      allowed
        ? ''
        : html`<p class="notice refused" id="not-allowed">
            ${session.reviewer} is not an allowed reviewer of ${model}: the console will not send your decision.
          </p>`
    }
    <form method="post" action="/models/${encodeURIComponent(model)}/review">
      <input type="hidden" name="csrf" value="${session.csrf}" />
      <input type="hidden" name="retrain" value="${retrain.workflowId}" />
      <label>Comment (recorded with your decision) <textarea name="comment"></textarea></label>
      <button class="approve" type="submit" name="decision" value="approve">Approve</button>
      <button class="reject" type="submit" name="decision" value="reject">Reject</button>
    </form>
    <h3>Every decision of this retrain</h3>
    <ul class="small">
      ${decisionLines(status.decisions)}
    </ul>
  </section>`;
}

function triggerValues(values: Record<string, Record<string, number>>): Html {
  return html`<table id="trigger-values">
    <tr>
      <th>rule</th>
      <th>measured</th>
    </tr>
    ${Object.entries(values).map(
      ([rule, numbers]) =>
        html`<tr>
          <td>${rule}</td>
          <td>
            ${Object.entries(numbers)
              .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
              .join(', ')}
          </td>
        </tr>`,
    )}
  </table>`;
}

function sweepTable(sweep: NonNullable<RetrainView['sweep']>): Html {
  return html`<table id="sweep">
      <tr>
        <th>trial</th>
        <th>configuration</th>
        <th>state</th>
        <th>${sweep.objective} (last rung)</th>
        <th>parameters</th>
      </tr>
      ${sweep.trials.map(
        (t) =>
          html`<tr>
            <td>${t.trial}${t.trial === sweep.best.trial ? html` <b>best</b>` : ''}</td>
            <td class="small">${describeConfig(t.config)}</td>
            <td>${t.state}</td>
            <td class="num">${t.objective.at(-1)?.toFixed(4) ?? '-'}</td>
            <td class="num">${t.paramCount}</td>
          </tr>`,
      )}
    </table>
    ${sweep.stoppedBy ? html`<p class="small">stopped by ${sweep.stoppedBy}</p>` : ''}`;
}
