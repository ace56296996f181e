/**
 * The review console's pure parts and its sign-in, in process: the reviewers file, sessions and
 * cookies, HTML escaping, the timeline's event kinds, the live-test plan shown to reviewers, the
 * settings; and the server's sign-in and CSRF rules over Fastify's inject (no Temporal needed:
 * these requests are answered before anything would reach it). The pages on a real stack are in
 * test/console/.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MlflowClient } from '../../adapters/mlflow/client.ts';
import type { PerennialClient } from '../../client/client.ts';
import { html, trusted } from '../../console/pages/html.ts';
import { livePlan } from '../../console/pages/review.ts';
import { Reviewers, ReviewersFileError } from '../../console/reviewers.ts';
import { buildConsole } from '../../console/server.ts';
import { cookie, parseCookies, Sessions } from '../../console/sessions.ts';
import { ConsoleConfigError, consoleSettings } from '../../console/settings.ts';
import { eventKind } from '../../console/timeline.ts';
import { ModelSpec } from '../../core/spec.ts';
import { tempDir } from '../helpers/services.ts';

const ANA = 'ana-token-0123456789';

function reviewersFile(text: string): string {
  const path = join(tempDir('perennial-console-unit-'), 'reviewers.yaml');
  writeFileSync(path, text);
  return path;
}

describe('reviewers file', () => {
  it('verifies a name with its own token only', () => {
    const reviewers = Reviewers.fromFile(reviewersFile(`reviewers:\n  ana: ${ANA}\n  bo: bo-token-0123456789a\n`));
    assert.deepEqual(reviewers.names, ['ana', 'bo']);
    assert.equal(reviewers.verify('ana', ANA), 'ana');
    assert.equal(reviewers.verify('bo', ANA), undefined);
    assert.equal(reviewers.verify('eve', ANA), undefined);
    assert.equal(reviewers.verify('ana', ''), undefined);
  });

  it('refuses short tokens, unknown keys, no reviewer, bad YAML and a missing file, naming the field', () => {
    const refusal = (text: string) => {
      const path = reviewersFile(text);
      assert.throws(() => Reviewers.fromFile(path), ReviewersFileError);
      try {
        Reviewers.fromFile(path);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    };
    assert.match(refusal('reviewers:\n  ana: short\n'), /reviewers\.ana: a token must be at least 16 characters/);
    assert.match(refusal(`reviewers:\n  ana: ${ANA}\ntokens: {}\n`), /Unrecognized key: "tokens"/);
    assert.match(refusal('reviewers: {}\n'), /reviewers: names no reviewer/);
    assert.match(refusal('reviewers: [ana\n'), /not valid YAML/);
    assert.throws(() => Reviewers.fromFile('/nonexistent/reviewers.yaml'), /cannot read the reviewers file/);
  });
});

describe('sessions', () => {
  it('hold a reviewer until they end or expire', async () => {
    const sessions = new Sessions(60_000);
    const { id, session } = sessions.create('ana');
    assert.equal(sessions.get(id), session);
    assert.notEqual(session.csrf, id);
    sessions.end(id);
    assert.equal(sessions.get(id), undefined);
    const short = new Sessions(1);
    const brief = short.create('bo');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(short.get(brief.id), undefined);
  });

  it('accept a login form token only with its own nonce', () => {
    const sessions = new Sessions(60_000);
    const { nonce, token } = sessions.loginChallenge();
    assert.ok(sessions.loginTokenValid(nonce, token));
    assert.ok(!sessions.loginTokenValid(sessions.loginChallenge().nonce, token));
    assert.ok(!sessions.loginTokenValid(undefined, token));
    assert.ok(!new Sessions(60_000).loginTokenValid(nonce, token), 'another process signs with another key');
  });

  it('use HttpOnly, SameSite=Strict cookies; the first of a repeated name wins', () => {
    assert.equal(cookie('s', 'v', { maxAgeS: 60, secure: false }), 's=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    assert.match(cookie('s', 'v', { maxAgeS: 60, secure: true }), /; Secure$/);
    assert.deepEqual(
      [...parseCookies('a=1; b=x=y; a=2; junk')],
      [
        ['a', '1'],
        ['b', 'x=y'],
      ],
    );
  });
});

it('html escapes every interpolated value except trusted markup', () => {
  const name = '<script>alert("x")</script>';
  assert.equal(
    html`<p title="${name}">${[name, trusted('<b>ok</b>')]}${undefined}${false}</p>`.text,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<b>ok</b></p>',
  );
});

it('the timeline sorts lifecycle decisions into events', () => {
  assert.equal(eventKind('retrain #3 started'), 'retrain');
  assert.equal(eventKind('retrain #3: promoted'), 'promotion');
  assert.equal(eventKind('retrain #3: rolled-back'), 'rollback');
  assert.equal(eventKind('rolled back from v3 to v2'), 'rollback');
  assert.equal(eventKind('retrain #3: failed'), 'failure');
  assert.equal(eventKind('retrain #3: not-better'), undefined);
  assert.equal(eventKind('lifecycle started'), undefined);
});

describe('the plan after an approval', () => {
  const base = {
    name: 'm',
    features: [{ name: 'x' }],
    label: { name: 'y', classes: ['a', 'b'] },
    training: { sweep: { families: { softmax: {} } } },
  };
  it('is no live test for a first champion', () => {
    assert.deepEqual(livePlan(ModelSpec.parse(base), undefined), [
      'no champion yet: the challenger becomes champion once approved, with no live test',
    ]);
  });
  it('spells out the canary steps and the verdict', () => {
    const steps = [
      { weight: 0.1, bake: '10m' },
      { weight: 0.5, bake: '1h' },
    ];
    const [plan, verdict] = livePlan(ModelSpec.parse({ ...base, canary: { steps } }), '1');
    assert.equal(plan, 'canary: 10% of traffic for 10m, then 50% of traffic for 1h; rolls back by itself when worse');
    assert.equal(verdict, 'verdict sequential: tolerance 0.05, at least 20 labelled canary predictions, undecided: promote; alpha 0.05');
  });
  it('names an A/B test and a direct deployment', () => {
    assert.match(livePlan(ModelSpec.parse({ ...base, deployment: { strategy: 'ab' } }), '1')[0], /^A\/B test: 50% of traffic/);
    assert.deepEqual(livePlan(ModelSpec.parse({ ...base, deployment: { strategy: 'direct' } }), '1'), [
      'direct deployment: promoted once approved, with no live test',
    ]);
  });
});

it('settings need a reviewers file and valid values, each refusal naming its variable', () => {
  assert.throws(() => consoleSettings({}), /PERENNIAL_CONSOLE_REVIEWERS_FILE is not set/);
  const env = { PERENNIAL_CONSOLE_REVIEWERS_FILE: '/r.yaml' };
  assert.deepEqual(consoleSettings({ ...env, MLFLOW_UI_URL: 'http://m:5000' }), {
    reviewersFile: '/r.yaml',
    port: 8090,
    host: '127.0.0.1',
    secureCookies: false,
    temporalUi: 'http://127.0.0.1:8233',
    mlflowUi: 'http://m:5000',
  });
  assert.throws(() => consoleSettings({ ...env, PERENNIAL_CONSOLE_PORT: 'x' }), /PERENNIAL_CONSOLE_PORT must be a port number/);
  assert.throws(() => consoleSettings({ ...env, PERENNIAL_CONSOLE_SECURE_COOKIES: 'yes' }), ConsoleConfigError);
  assert.throws(() => consoleSettings({ ...env, TEMPORAL_UI_URL: 'ftp://x' }), /TEMPORAL_UI_URL=ftp:\/\/x: expected an http\(s\) URL/);
});

describe('sign-in and CSRF', () => {
  const app = buildConsole({
    client: {} as PerennialClient,
    mlflow: {} as MlflowClient,
    reviewers: new Reviewers({ ana: ANA }),
    ui: { temporalUi: 'http://127.0.0.1:8233', namespace: 'default', mlflowUi: 'http://127.0.0.1:5000' },
  });
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });

  /** Signs in as a browser would: the form's nonce cookie and token, then the POST. */
  async function signIn(fields: Record<string, string>, headers: Record<string, string> = {}) {
    const server = await app;
    const page = await server.inject({ method: 'GET', url: '/login' });
    const nonce = /perennial_console_login=([^;]+)/.exec(String(page.headers['set-cookie']))![1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
    return server.inject({
      method: 'POST',
      url: '/login',
      ...form({ csrf, ...fields }, { cookie: `perennial_console_login=${nonce}`, ...headers }),
    });
  }

  it('sends a visitor without a session to sign in, and refuses its POSTs', async () => {
    const server = await app;
    const page = await server.inject({ method: 'GET', url: '/models/m' });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/login?next=%2Fmodels%2Fm');
    const post = await server.inject({ method: 'POST', url: '/models/m/review', ...form({ decision: 'approve' }) });
    assert.equal(post.statusCode, 401);
  });

  it('signs in with the right token into an HttpOnly, SameSite=Strict session, never redirecting off-site', async () => {
    const ok = await signIn({ reviewer: 'ana', token: ANA, next: '//evil.example/' });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/');
    const [session] = ok.headers['set-cookie'] as string[];
    assert.match(session, /^perennial_console=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    assert.equal((await signIn({ reviewer: 'ana', token: ANA, next: '/models/m' })).headers.location, '/models/m');
  });

  it('refuses a wrong token, a form without its nonce and a foreign origin', async () => {
    const wrong = await signIn({ reviewer: 'ana', token: 'not-anas-token-00000' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /Sign-in refused: unknown reviewer or wrong token/);
    assert.doesNotMatch(String(wrong.headers['set-cookie']), /perennial_console=/);
    assert.equal((await signIn({ reviewer: 'ana', token: ANA }, { origin: 'http://evil.example' })).statusCode, 403);
    const server = await app;
    const noNonce = await server.inject({ method: 'POST', url: '/login', ...form({ reviewer: 'ana', token: ANA, csrf: 'x' }) });
    assert.equal(noNonce.statusCode, 403);
  });

  it('refuses a review POST without the session CSRF token, or from another site', async () => {
    const server = await app;
    const session = ((await signIn({ reviewer: 'ana', token: ANA })).headers['set-cookie'] as string[])[0].split(';')[0];
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      server.inject({ method: 'POST', url: '/models/m/review', ...form(fields, { cookie: session, ...headers }) });
    const forged = await post({ decision: 'approve', retrain: 'model/m/retrain/1', csrf: 'guess' });
    assert.equal(forged.statusCode, 403);
    assert.match(forged.body, /came from another site: nothing was sent/);
    assert.match(String(forged.headers['content-security-policy']), /form-action 'self'/);
    // The session's own token (every page's sign-out form carries it) passes, unless the browser says another site sent it.
    const csrf = /name="csrf" value="([^"]+)"/.exec(forged.body)![1];
    const foreign = await post({ decision: 'approve', retrain: 'model/m/retrain/1', csrf }, { origin: 'http://evil.example' });
    assert.equal(foreign.statusCode, 403);
    const own = await post({ decision: 'maybe', retrain: 'model/m/retrain/1', csrf }, { origin: 'http://localhost:80' });
    assert.equal(own.statusCode, 400);
    assert.match(own.body, /decision: expected approve or reject, got &quot;maybe&quot;/);
  });
});
