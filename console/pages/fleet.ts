/** Every managed model on one page, from the fleet view's one visibility query (client/fleet.ts). */
import type { FleetRow } from '../../client/fleet.ts';
import type { Links } from '../links.ts';
import type { Session } from '../sessions.ts';
import { html } from './html.ts';
import { layout } from './layout.ts';

export const modelPath = (model: string) => `/models/${encodeURIComponent(model)}`;

export function fleetPage(rows: FleetRow[], session: Session, links: Links): string {
  const waiting = rows.filter((r) => r.pendingApprovals > 0).length;
  const body = html`<h1>Fleet</h1>
    <p>
      ${rows.length} models; <b>${waiting}</b> awaiting approval.
      <span class="muted small">Search attributes are eventually consistent: a change shows up a moment after it happened.</span>
    </p>
    ${
      rows.length === 0
        ? html`<p class="muted">No managed model is running (<code>perennial register &lt;spec&gt;</code> starts one).</p>`
        : html`<table id="fleet">
            <tr>
              <th>model</th>
              <th>champion</th>
              <th>stage</th>
              <th>last trigger</th>
              <th>last verdict</th>
              <th>pending approvals</th>
              <th>updated</th>
              <th>Temporal</th>
            </tr>
            ${rows.map(
              (r) =>
                html`<tr data-model="${r.model}">
                  <td><a href="${modelPath(r.model)}">${r.model}</a></td>
                  <td>${r.champion ? `v${r.champion}` : '-'}</td>
                  <td>${r.stage || '-'}${r.retrainStage ? html` <span class="muted">(retrain: ${r.retrainStage})</span>` : ''}</td>
                  <td>${r.lastTrigger || '-'}</td>
                  <td>${r.lastVerdict || '-'}</td>
                  <td class="num">
                    ${r.pendingApprovals > 0 ? html`<a href="${modelPath(r.model)}#review"><b>${r.pendingApprovals}</b> review</a>` : '0'}
                  </td>
                  <td class="small">${r.updatedAt ?? '-'}</td>
                  <td><a href="${links.workflow(r.workflowId)}">lifecycle</a></td>
                </tr>`,
            )}
          </table>`
    }`;
  return layout({ title: 'Fleet', session, body });
}
