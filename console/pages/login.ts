/** The sign-in form: a reviewer's name and their token from the reviewers file. */
import { html } from './html.ts';
import { layout } from './layout.ts';

export function loginPage(options: { token: string; next: string; refusal?: string; name?: string }): string {
  return layout({
    title: 'Sign in',
    body: html`<h1>Sign in to review</h1>
      ${options.refusal ? html`<p class="notice refused" id="refusal">${options.refusal}</p>` : ''}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value="${options.token}" />
        <input type="hidden" name="next" value="${options.next}" />
        <label>Reviewer <input name="reviewer" autocomplete="username" required value="${options.name ?? ''}" /></label>
        <label>Token <input name="token" type="password" autocomplete="current-password" required /></label>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted small">
        Reviewers and their tokens are in the console's reviewers file (PERENNIAL_CONSOLE_REVIEWERS_FILE). Signing in proves who you are;
        the model's spec (approval.reviewers) decides whether you may approve its challengers.
      </p>`,
  });
}
