/** A page that says one thing: a review sent, or why a request was refused. */
import type { Session } from '../sessions.ts';
import { html } from './html.ts';
import { layout } from './layout.ts';

export function messagePage(options: { title: string; kind: 'ok' | 'refused'; message: string; back?: string; session?: Session }): string {
  const { title, kind, message, back, session } = options;
  return layout({
    title,
    session,
    body: html`<h1>${title}</h1>
      <p class="notice ${kind}" id="${kind === 'ok' ? 'done' : 'refusal'}">${message}</p>
      ${back ? html`<p><a href="${back}">Back</a></p>` : ''}`,
  });
}
