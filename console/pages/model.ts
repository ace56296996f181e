/**
 * One model: its champion, the retrain that runs (with the review form when it waits for one),
 * monitoring charts over cycles, the drift reports, and the lifecycle's timeline of decisions,
 * each with a link to where it lives in Temporal or MLflow.
 */
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { lifecycleWorkflowId, retrainWorkflowId } from '../../core/messages.ts';
import type { Links } from '../links.ts';
import { driftReportDir, type ModelView, type MonitoringRun } from '../model-view.ts';
import type { Session } from '../sessions.ts';
import { eventKind, retrainNumber } from '../timeline.ts';
import { html, trusted, type Html } from './html.ts';
import { layout } from './layout.ts';
import { modelPath } from './fleet.ts';
import { AWAITING_APPROVAL, reviewSection } from './review.ts';

export const driftReportRoute = (model: string, version: string, cycle: number) => `${modelPath(model)}/drift/${version}/${cycle}`;

const share = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));

export function modelPage(view: ModelView, charts: Array<{ title: string; svg: string }>, session: Session, links: Links): string {
  const { model, status, retrain } = view;
  const champion = status.championVersion;
  const championRun = view.monitoring.find((m) => m.version === champion);
  const body = html`<h1>${model}</h1>
    ${
      view.problems.length
        ? html`<div class="notice refused">
            Some of this page could not be read:
            <ul>
              ${view.problems.map((p) => html`<li>${p}</li>`)}
            </ul>
          </div>`
        : ''
    }
    <table id="summary">
      <tr>
        <th>champion</th>
        <td id="champion">
          ${
            champion
              ? html`<b>v${champion}</b> ·
                  <a href="${links.modelVersion(model, champion)}">version in MLflow</a>
                  ${championRun ? html` · <a href="${links.run(championRun.experimentId, championRun.runId)}">monitoring run</a>` : ''}`
              : html`<span class="muted">none yet</span>`
          }
        </td>
      </tr>
      <tr>
        <th>previous champions</th>
        <td>${status.previousChampions.map((v) => `v${v}`).join(', ') || '-'}</td>
      </tr>
      <tr>
        <th>lifecycle</th>
        <td>
          ${[
            status.paused ? 'paused' : 'running',
            `${status.retrainCount} retrains so far`,
            status.pendingTrigger && `pending trigger: ${status.pendingTrigger}`,
            status.cooldownUntil && `cooldown until ${status.cooldownUntil}`,
            status.retryAt && `retry at ${status.retryAt}`,
          ]
            .filter(Boolean)
            .join('; ')}
          ·
          <a href="${links.workflow(lifecycleWorkflowId(model), view.lifecycleRunId)}">workflow in Temporal</a>
        </td>
      </tr>
      <tr>
        <th>retrain</th>
        <td>
          ${
            retrain
              ? html`<a href="${links.workflow(retrain.workflowId, retrain.runId)}">${retrain.workflowId}</a> at stage
                  <b id="retrain-stage">${retrain.status.stage}</b>`
              : 'none running'
          }
        </td>
      </tr>
    </table>
    ${retrain?.status.stage === AWAITING_APPROVAL ? reviewSection(retrain, session, links, model) : ''}
    ${lastCycle(status.lastSummary as MonitoringSummary | undefined)}
    <h2>Monitoring</h2>
    ${
      charts.length
        ? charts.map((c) => html`<figure class="chart" aria-label="${c.title}">${trusted(c.svg)}</figure>`)
        : html`<p class="muted">No monitoring cycle has logged metrics yet.</p>`
    }
    ${driftReports(model, view.monitoring, links)}
    <h2>Timeline</h2>
    ${timeline(view, links)}`;
  return layout({ title: model, session, body });
}

function lastCycle(summary: MonitoringSummary | undefined): Html | string {
  if (!summary?.performance) return '';
  return html`<h2>Last monitoring cycle</h2>
    <p id="last-cycle">
      Cycle ${summary.cycle} of v${summary.championVersion} at ${summary.at}: accuracy ${share(summary.performance.accuracy)} on
      ${summary.performance.n} labelled; estimated accuracy ${share(summary.estimated?.accuracy)};
      ${
        summary.drift.tested
          ? `${summary.drift.drifted.length} of ${summary.drift.features.length} features drifted${summary.drift.drifted.length ? ` (${summary.drift.drifted.join(', ')})` : ''}`
          : 'drift not tested (too few new predictions)'
      };
      ${summary.newRows} new predictions, ${summary.newLabels} new labels.
    </p>`;
}

function driftReports(model: string, runs: MonitoringRun[], links: Links): Html | string {
  const reports = runs.flatMap((run) => run.reports.map((cycle) => ({ run, cycle })));
  if (reports.length === 0) return html`<p class="muted">No drift report yet (a cycle that finds drift or anomalies writes one).</p>`;
  const latest = reports[0];
  return html`<h2>Drift reports</h2>
    <ul id="drift-reports">
      ${reports.map(
        ({ run, cycle }) =>
          html`<li>
            <a href="${driftReportRoute(model, run.version, cycle)}">v${run.version} cycle ${cycle}</a>
            <span class="small">(<a href="${links.artifact(run.experimentId, run.runId, driftReportDir(cycle))}">in MLflow</a>)</span>
          </li>`,
      )}
    </ul>
    <iframe title="latest drift report" sandbox src="${driftReportRoute(model, latest.run.version, latest.cycle)}"></iframe>`;
}

function timeline(view: ModelView, links: Links): Html {
  const rows = [...view.status.history].reverse();
  return html`<table id="timeline">
    <tr>
      <th>when</th>
      <th>what</th>
      <th>why</th>
    </tr>
    ${rows.map((d) => {
      const n = retrainNumber(d.what);
      return html`<tr class="${eventKind(d.what) ?? ''}">
        <td class="small">${d.at}</td>
        <td>${d.what}${n ? html` <a class="small" href="${links.workflow(retrainWorkflowId(view.model, n))}">workflow</a>` : ''}</td>
        <td class="small">${d.reasons.join('; ')}</td>
      </tr>`;
    })}
  </table>`;
}
