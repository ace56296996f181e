/**
 * The review console: server-rendered pages over Fastify, no script on any page and nothing
 * fetched from elsewhere. Every page needs a signed-in reviewer; every POST needs its session's
 * CSRF token (and, when the browser sends one, this console's own Origin).
 *
 *   GET  /                                  the fleet
 *   GET  /models/:model                     one model (and the review form when a retrain waits)
 *   GET  /models/:model/drift/:version/:cycle   a drift report from MLflow, sandboxed
 *   POST /models/:model/review              approve or reject
 *   GET|POST /login, POST /logout
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { MlflowClient } from '../adapters/mlflow/client.ts';
import type { PerennialClient } from '../client/client.ts';
import { listFleet } from '../client/fleet.ts';
import { WorkflowNotFoundError } from '../client/client.ts';
import { monitoringCharts } from './charts.ts';
import { links as linksTo, type UiLinks } from './links.ts';
import { driftReportOf, modelView } from './model-view.ts';
import { fleetPage, modelPath } from './pages/fleet.ts';
import { loginPage } from './pages/login.ts';
import { messagePage } from './pages/message.ts';
import { modelPage } from './pages/model.ts';
import type { Reviewers } from './reviewers.ts';
import { ReviewRefusedError, sendReview } from './review.ts';
import { cookie, LOGIN_COOKIE, parseCookies, sameSecret, SESSION_COOKIE, type Session, Sessions } from './sessions.ts';
import { timelineEvents } from './timeline.ts';

export interface ConsoleOptions {
  client: PerennialClient;
  mlflow: MlflowClient;
  reviewers: Reviewers;
  ui: UiLinks;
  /** Cookies only over HTTPS: on when the console is reached through TLS. */
  secureCookies?: boolean;
  sessionTtlMs?: number;
}

const PAGE_POLICY = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "frame-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
/** A drift report is MLflow's HTML: shown in a sandbox, without scripts, inside the console only. */
const REPORT_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

const LOGIN_TTL_S = 3600;
const DECISIONS = ['approve', 'reject'] as const;

type Form = Record<string, string | undefined>;

export async function buildConsole(options: ConsoleOptions) {
  const { client, mlflow, reviewers } = options;
  const links = linksTo(options.ui);
  const sessions = new Sessions(options.sessionTtlMs ?? 8 * 3600_000);
  const secure = options.secureCookies ?? false;
  // Warnings and errors only: the workflow records every review itself.
  const app = Fastify({ logger: { level: 'warn' }, bodyLimit: 64 * 1024 });

  // HTML forms post urlencoded bodies; nothing else is accepted.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  // Referrer-Policy same-origin, not no-referrer: under no-referrer the browser sends `Origin: null`
  // with the console's own form posts, and the Origin check would refuse them.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_POLICY);
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin').header('cache-control', 'no-store');
  });

  const sessionId = (request: FastifyRequest) => parseCookies(request.headers.cookie).get(SESSION_COOKIE);
  const sessionOf = (request: FastifyRequest) => sessions.get(sessionId(request));
  const html = (reply: FastifyReply, status: number, page: string) => reply.status(status).type('text/html; charset=utf-8').send(page);
  const refuse = (reply: FastifyReply, status: number, title: string, message: string, session?: Session, back?: string) =>
    html(reply, status, messagePage({ title, kind: 'refused', message, session, back }));

  /** The signed-in reviewer, or undefined after answering: a page sends to the sign-in form, a POST is refused. */
  function signedIn(request: FastifyRequest, reply: FastifyReply): Session | undefined {
    const session = sessionOf(request);
    if (session) return session;
    if (request.method === 'GET') void reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    else void refuse(reply, 401, 'Not signed in', 'Sign in first: this request carried no valid session, and nothing was done.');
    return undefined;
  }

  /** A POST the browser says came from another site's page (a form there aimed at this console). */
  function foreignOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    return origin !== undefined && origin !== `${secure ? 'https' : 'http'}://${request.headers.host}`;
  }
  /** A POST's form from this console's own page in this session: its CSRF token, and no foreign Origin. */
  const fromOwnForm = (request: FastifyRequest, token: string | undefined, session: Session) =>
    !foreignOrigin(request) && token !== undefined && sameSecret(token, session.csrf);

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const { nonce, token } = sessions.loginChallenge();
    reply.header('set-cookie', cookie(LOGIN_COOKIE, nonce, { maxAgeS: LOGIN_TTL_S, secure }));
    return html(reply, 200, loginPage({ token, next: safeNext(request.query.next) }));
  });

  app.post<{ Body: Form }>('/login', async (request, reply) => {
    const form = request.body ?? {};
    const next = safeNext(form.next);
    const again = (status: number, refusal: string) => {
      const { nonce, token } = sessions.loginChallenge();
      reply.header('set-cookie', cookie(LOGIN_COOKIE, nonce, { maxAgeS: LOGIN_TTL_S, secure }));
      return html(reply, status, loginPage({ token, next, refusal, name: form.reviewer }));
    };
    const nonce = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
    if (foreignOrigin(request) || !sessions.loginTokenValid(nonce, form.csrf))
      return again(403, 'The sign-in form had expired or came from another site: try again.');
    const reviewer = reviewers.verify((form.reviewer ?? '').trim(), form.token ?? '');
    if (!reviewer) return again(401, 'Sign-in refused: unknown reviewer or wrong token.');
    sessions.end(sessionId(request));
    const { id } = sessions.create(reviewer);
    reply.header('set-cookie', [
      cookie(SESSION_COOKIE, id, { maxAgeS: Math.floor(sessions.ttlMs / 1000), secure }),
      cookie(LOGIN_COOKIE, '', { maxAgeS: 0, secure }),
    ]);
    return reply.redirect(next, 303);
  });

  app.post<{ Body: Form }>('/logout', async (request, reply) => {
    const session = signedIn(request, reply);
    if (!session) return reply;
    if (!fromOwnForm(request, request.body?.csrf, session))
      return refuse(reply, 403, 'Refused', 'This form had expired or came from another site: nothing was done.', session, '/');
    sessions.end(sessionId(request));
    reply.header('set-cookie', cookie(SESSION_COOKIE, '', { maxAgeS: 0, secure }));
    return reply.redirect('/login', 303);
  });

  app.get('/', async (request, reply) => {
    const session = signedIn(request, reply);
    if (!session) return reply;
    return html(reply, 200, fleetPage(await listFleet(client.temporal), session, links));
  });

  app.get<{ Params: { model: string } }>('/models/:model', async (request, reply) => {
    const session = signedIn(request, reply);
    if (!session) return reply;
    const { model } = request.params;
    let view;
    try {
      view = await modelView(client, mlflow, model);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        return refuse(reply, 404, 'No such model', `No lifecycle runs for a model named ${model}.`, session, '/');
      throw err;
    }
    const charts = await monitoringCharts(view.samples, timelineEvents(view.status.history));
    return html(reply, 200, modelPage(view, charts, session, links));
  });

  app.get<{ Params: { model: string; version: string; cycle: string } }>('/models/:model/drift/:version/:cycle', async (request, reply) => {
    const session = signedIn(request, reply);
    if (!session) return reply;
    const { model, version, cycle } = request.params;
    if (!/^[1-9][0-9]*$/.test(version) || !/^[1-9][0-9]{0,8}$/.test(cycle))
      return refuse(reply, 400, 'No such report', 'version and cycle are positive whole numbers', session, modelPath(model));
    const report = await driftReportOf(mlflow, model, version, Number(cycle));
    return reply
      .header('content-security-policy', REPORT_POLICY)
      .header('x-frame-options', 'SAMEORIGIN')
      .type('text/html; charset=utf-8')
      .send(Buffer.from(report));
  });

  app.post<{ Params: { model: string }; Body: Form }>('/models/:model/review', async (request, reply) => {
    const session = signedIn(request, reply);
    if (!session) return reply;
    const { model } = request.params;
    const form = request.body ?? {};
    const back = modelPath(model);
    if (!fromOwnForm(request, form.csrf, session))
      return refuse(reply, 403, 'Refused', 'This form had expired or came from another site: nothing was sent.', session, back);
    const decision = DECISIONS.find((d) => d === form.decision);
    if (!decision)
      return refuse(reply, 400, 'Refused', `decision: expected approve or reject, got "${form.decision ?? ''}"`, session, back);
    if (!form.retrain) return refuse(reply, 400, 'Refused', 'retrain: the form names no retrain workflow', session, back);
    try {
      const answer = await sendReview(client, {
        model,
        reviewer: session.reviewer,
        decision,
        comment: form.comment?.trim() ?? '',
        retrainWorkflowId: form.retrain,
      });
      return html(
        reply,
        200,
        messagePage({ title: `${decision === 'approve' ? 'Approved' : 'Rejected'}`, kind: 'ok', message: answer, session, back }),
      );
    } catch (err) {
      if (!(err instanceof ReviewRefusedError)) throw err;
      return refuse(reply, err.status, `${decision === 'approve' ? 'Approval' : 'Rejection'} refused`, err.message, session, back);
    }
  });

  app.setErrorHandler(async (err: Error, request, reply) => {
    request.log.error(err);
    return refuse(reply, 502, 'Something failed', `The console could not answer: ${err.message}`, sessionOf(request), '/');
  });

  return app;
}

/** Where to go after signing in: a path on this console, never another site (`//evil`, `/\evil`). */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}
