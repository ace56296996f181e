/** The frame of every console page: one inline stylesheet, no script, nothing fetched from elsewhere. */
import type { Session } from '../sessions.ts';
import { html, type Html } from './html.ts';

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2329;background:#f7f8fa}
header{display:flex;align-items:center;gap:1.5em;padding:.6em 1.5em;background:#1d2329;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}
main{padding:1em 1.5em;max-width:1100px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;margin:.5em 0}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}td.num{text-align:right}
.muted{color:#66707a}.small{font-size:.85em}
.notice{padding:.6em 1em;border-radius:4px;margin:1em 0}
.refused{background:#fde2e2;border:1px solid #e45756}.ok{background:#e3f4e1;border:1px solid #54a24b}
.waiting{background:#fff4de;border:1px solid #f58518}
.evidence{background:#fff;border:2px solid #f58518;padding:.5em 1.2em 1em;border-radius:6px}
.chart{background:#fff;border:1px solid #dde1e6;padding:.5em;display:inline-block;margin:.3em 0}
button{font-size:1em;padding:.35em 1.1em;border-radius:4px;border:1px solid #888;cursor:pointer}
button.approve{background:#54a24b;color:#fff;border-color:#3d7a35}button.reject{background:#e45756;color:#fff;border-color:#b43c3c}
header button{background:none;color:#fff;border:1px solid #fff;padding:.2em .8em}
textarea{width:32em;height:3em}label{display:block;margin:.5em 0}
iframe{width:100%;height:560px;border:1px solid #dde1e6;background:#fff}
tr.promotion td{background:#e3f4e1}tr.rollback td,tr.failure td{background:#fde2e2}tr.retrain td{background:#fff4de}
`;

export function layout(options: { title: string; session?: Session; body: Html }): string {
  const { title, session, body } = options;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Perennial console</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <header>
          <a href="/">Perennial review console</a>
          ${
            session
              ? html`<span class="small">signed in as <b id="reviewer">${session.reviewer}</b></span>
                  <form method="post" action="/logout">
                    <input type="hidden" name="csrf" value="${session.csrf}" /><button type="submit">Sign out</button>
                  </form>`
              : ''
          }
        </header>
        <main>${body}</main>
      </body>
    </html>`.text;
}
