/**
 * The sendAlert activity against real receivers: an SMTP server (smtp-server) and an HTTP
 * server standing in for a Slack webhook, with the ledger on every store engine (STORE_ENGINES). Each
 * test uses its own model name, so the shared ledger and receivers don't mix them up.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { alertActivities, type SendAlertInput, type SendAlertResult } from '../../activities/alerts.ts';
import type { ActivityContext } from '../../activities/context.ts';
import { AlertsSpec, type Alert, type AlertsSpecInput } from '../../core/alerts-spec.ts';
import type { SlackPayload } from '../../core/alert-messages.ts';
import type { Store } from '../../adapters/store/index.ts';
import { STORE_ENGINES, type StoreEngine } from '../helpers/store-engines.ts';

// ---- a webhook receiver -------------------------------------------------------------------

interface WebhookReceiver {
  url: string;
  posts: Array<{ path: string; contentType: string | undefined; payload: SlackPayload }>;
  /** What it answers; tests set 500 to break it. */
  status: number;
  close(): Promise<void>;
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver = { posts: [], status: 200 } as unknown as WebhookReceiver;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (receiver.status === 200) {
        receiver.posts.push({ path: req.url ?? '', contentType: req.headers['content-type'], payload: JSON.parse(body) });
        res.end('ok');
      } else {
        res.statusCode = receiver.status;
        res.end('internal_error');
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return receiver;
}

// ---- an SMTP server ----------------------------------------------------------------------

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

interface SmtpReceiver {
  port: number;
  mails: Mail[];
  /** While true, every message is refused with a temporary error. */
  down: boolean;
  close(): Promise<void>;
}

async function startSmtpServer(options: SMTPServerOptions = { authOptional: true }): Promise<SmtpReceiver> {
  const receiver = { mails: [], down: false } as unknown as SmtpReceiver;
  const server = new SMTPServer({
    ...options,
    // Plain SMTP on loopback: no certificate to make up, and the client must not insist on TLS.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (receiver.down) return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        receiver.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  receiver.port = (server.server.address() as AddressInfo).port;
  receiver.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return receiver;
}

/** The message body as a reader sees it: quoted-printable soft breaks and escapes undone. */
function decodedBody(raw: string): string {
  const qp = raw.replace(/=\r?\n/g, '');
  return qp.replace(/(=[0-9A-F]{2})+/g, (run) => Buffer.from(run.replace(/=/g, ''), 'hex').toString('utf8'));
}

function subjectOf(raw: string): string | undefined {
  return /^Subject: (.*)$/m.exec(raw)?.[1];
}

// ---- the setup ----------------------------------------------------------------------------

let store: Store;
let webhook: WebhookReceiver;
let smtp: SmtpReceiver;
let sendAlert: (input: SendAlertInput) => Promise<SendAlertResult>;
// Failing on purpose is what half these tests do: keep the SDK's warnings out of the output.
const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

before(async () => {
  [webhook, smtp] = await Promise.all([startWebhookReceiver(), startSmtpServer()]);
});

after(async () => {
  await Promise.all([webhook.close(), smtp.close()]);
});

/** Per engine: its store for the ledger, and the activity on it. */
function useEngine(engine: StoreEngine): void {
  before(async () => {
    store = await engine.open();
    // The alert activities only need the store.
    const activities = alertActivities({ store } as Pick<ActivityContext, 'store'> as ActivityContext);
    sendAlert = (input) => env.run(activities.sendAlert, input);
  });
  after(() => store.close());
}

let models = 0;
function uniqueModel(): string {
  return `model-${++models}`;
}

function spec(overrides: Partial<AlertsSpecInput> = {}): AlertsSpec {
  return AlertsSpec.parse({
    webhooks: [{ url: `${webhook.url}/slack`, name: 'slack' }],
    email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'Perennial <perennial@example.com>', to: ['ml-team@example.com'] },
    ...overrides,
  });
}

function drift(model: string, overrides: Partial<Alert> = {}): Alert {
  return {
    kind: 'drift',
    model,
    title: `Input drift on ${model}`,
    text: 'temp_max and wind drifted <p=0.001>',
    fields: { 'drifted features': 2 },
    ...overrides,
  };
}

const postsFor = (model: string) => webhook.posts.filter((p) => p.payload.text.startsWith(`[${model}]`));
const mailsFor = (model: string) => smtp.mails.filter((m) => subjectOf(m.raw)?.includes(`${model}:`));

// ---- the tests ----------------------------------------------------------------------------

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    useEngine(engine);

    test('an alert arrives as Slack JSON on the webhook and as an email', async () => {
      const model = uniqueModel();
      const result = await sendAlert({
        alerts: spec(),
        alert: drift(model, { link: 'https://mlflow.example.com/#/runs/1' }),
        alertId: `${model}/1`,
      });
      assert.deepEqual(result, { alertId: `${model}/1`, delivered: ['slack', 'email'], failed: [] });

      const [post, ...morePosts] = postsFor(model);
      assert.equal(morePosts.length, 0);
      assert.equal(post.path, '/slack');
      assert.equal(post.contentType, 'application/json');
      assert.deepEqual(
        post.payload.blocks.map((b) => b.type),
        ['header', 'section', 'section', 'context'],
      );
      assert.deepEqual(post.payload.blocks[0], {
        type: 'header',
        text: { type: 'plain_text', text: `Input drift on ${model}`, emoji: true },
      });
      assert.match(JSON.stringify(post.payload.blocks[1]), /temp_max and wind drifted &lt;p=0.001&gt;/);

      const [mail, ...moreMails] = mailsFor(model);
      assert.equal(moreMails.length, 0);
      assert.equal(mail.from, 'perennial@example.com');
      assert.deepEqual(mail.to, ['ml-team@example.com']);
      assert.equal(subjectOf(mail.raw), `[Perennial] ${model}: Input drift on ${model}`);
      const body = decodedBody(mail.raw);
      assert.match(body, /temp_max and wind drifted <p=0\.001>/, 'the text part');
      assert.match(body, /<p>temp_max and wind drifted &lt;p=0\.001&gt;<\/p>/, 'the HTML part, escaped');
      assert.match(body, /drifted features: 2/);
      assert.match(body, /Perennial · Input drift · model/);
    });

    test('the same dedupKey within the window is sent once', async () => {
      const model = uniqueModel();
      const alert = drift(model, { dedupKey: 'drift:temp_max,wind' });
      const first = await sendAlert({ alerts: spec(), alert, alertId: `${model}/1` });
      const second = await sendAlert({ alerts: spec(), alert, alertId: `${model}/2` });
      assert.deepEqual(first.delivered, ['slack', 'email']);
      assert.deepEqual(second.delivered, []);
      assert.equal(second.suppressed?.reason, 'duplicate');
      assert.match(second.suppressed!.detail, /"drift:temp_max,wind" was already sent for model-\d+ \d+ms ago \(dedup window 1h\)/);
      assert.equal(postsFor(model).length, 1);
      assert.equal(mailsFor(model).length, 1);
      // Another key of the same model and kind is news.
      const other = await sendAlert({ alerts: spec(), alert: { ...alert, dedupKey: 'drift:precipitation' }, alertId: `${model}/3` });
      assert.deepEqual(other.delivered, ['slack', 'email']);
    });

    test('the rate limit suppresses the alert after max, per kind and model', async () => {
      const model = uniqueModel();
      const alerts = spec({ rateLimit: { max: 2, per: '1h' } });
      const results: SendAlertResult[] = [];
      for (let n = 1; n <= 3; n++)
        results.push(await sendAlert({ alerts, alert: drift(model, { text: `cycle ${n}` }), alertId: `${model}/${n}` }));
      assert.deepEqual(
        results.map((r) => r.delivered.length),
        [2, 2, 0],
      );
      assert.equal(results[2].suppressed?.reason, 'rate-limited');
      assert.match(results[2].suppressed!.detail, /2 drift alerts for model-\d+ within 1h \(limit 2\); the next may go in (59m|1h)/);
      assert.equal(postsFor(model).length, 2);

      // Suppressed alerts don't count, and other kinds and models have their own budget.
      const rollback = await sendAlert({ alerts, alert: drift(model, { kind: 'rollback' }), alertId: `${model}/rollback` });
      assert.deepEqual(rollback.delivered, ['slack', 'email']);
      const otherModel = uniqueModel();
      const other = await sendAlert({ alerts, alert: drift(otherModel), alertId: `${otherModel}/1` });
      assert.deepEqual(other.delivered, ['slack', 'email']);
    });

    test('the same alertId twice sends once', async () => {
      const model = uniqueModel();
      const input = { alerts: spec(), alert: drift(model), alertId: `model/${model}/retrain/1/alert/1` };
      const first = await sendAlert(input);
      const again = await sendAlert(input);
      assert.deepEqual(again, first);
      assert.equal(postsFor(model).length, 1);
      assert.equal(mailsFor(model).length, 1);

      // A suppressed alert stays suppressed when its attempt is repeated.
      const limited = spec({ rateLimit: { max: 1, per: '1h' } });
      const suppressed = await sendAlert({ ...input, alerts: limited, alertId: `${input.alertId}-2` });
      assert.equal(suppressed.suppressed?.reason, 'rate-limited');
      assert.deepEqual(await sendAlert({ ...input, alerts: limited, alertId: `${input.alertId}-2` }), suppressed);
    });

    test('a webhook answering 500 does not stop the email: partial delivery is reported', async () => {
      const model = uniqueModel();
      webhook.status = 500;
      try {
        const result = await sendAlert({ alerts: spec(), alert: drift(model), alertId: `${model}/1` });
        assert.deepEqual(result.delivered, ['email']);
        assert.equal(result.failed.length, 1);
        assert.equal(result.failed[0].channel, 'slack');
        assert.equal(result.failed[0].error, `webhook ${webhook.url}/slack answered 500: internal_error`);
        assert.equal(mailsFor(model).length, 1);
      } finally {
        webhook.status = 200;
      }
    });

    test('every channel failing throws a retryable error; retries send only what is missing', async () => {
      const model = uniqueModel();
      const input = {
        alerts: spec(),
        alert: drift(model, { kind: 'approval-needed', title: `Approve version 2 of ${model}` }),
        alertId: `${model}/1`,
      };
      webhook.status = 500;
      smtp.down = true;
      try {
        await assert.rejects(sendAlert(input), (err: Error) => {
          assert.ok(err instanceof ApplicationFailure);
          assert.equal(err.nonRetryable, false);
          assert.equal(err.type, 'AlertDeliveryFailed');
          assert.match(err.message, /reached no channel/);
          assert.match(err.message, /- slack: webhook http:\/\/127\.0\.0\.1:\d+\/slack answered 500/);
          assert.match(err.message, /- email: SMTP 127\.0\.0\.1:\d+: .*451/);
          return true;
        });

        // The webhook recovers first: the retry delivers it and reports the email as still failing.
        webhook.status = 200;
        const partial = await sendAlert(input);
        assert.deepEqual(partial.delivered, ['slack']);
        assert.deepEqual(
          partial.failed.map((f) => f.channel),
          ['email'],
        );

        // Then the mail server: the next attempt sends the email only.
        smtp.down = false;
        const complete = await sendAlert(input);
        assert.deepEqual(complete, { alertId: input.alertId, delivered: ['slack', 'email'], failed: [] });
        assert.equal(postsFor(model).length, 1, 'the webhook got the alert once');
        assert.equal(mailsFor(model).length, 1);
        // Retries of one alert are one alert for the rate limit: the first attempt's verdict holds.
        assert.equal((await store.getAlert(input.alertId))?.suppressed, undefined);
      } finally {
        webhook.status = 200;
        smtp.down = false;
      }
    });

    test('the SMTP password comes from the environment variable passwordEnv names', async () => {
      const PASSWORD_ENV = 'PERENNIAL_TEST_SMTP_PASSWORD';
      const logins: Array<{ user?: string; method: string }> = [];
      const secured = await startSmtpServer({
        allowInsecureAuth: true,
        authMethods: ['PLAIN', 'LOGIN'],
        onAuth(auth, _session, callback) {
          logins.push({ user: auth.username, method: auth.method });
          if (auth.username === 'perennial' && auth.password === 'correct horse battery staple')
            return callback(null, { user: auth.username });
          callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
        },
      });
      try {
        const alerts = AlertsSpec.parse({
          email: {
            smtp: { host: '127.0.0.1', port: secured.port, user: 'perennial', passwordEnv: PASSWORD_ENV },
            from: 'perennial@example.com',
            to: ['ml-team@example.com', 'oncall@example.com'],
          },
        });
        const model = uniqueModel();

        delete process.env[PASSWORD_ENV];
        await assert.rejects(
          sendAlert({ alerts, alert: drift(model), alertId: `${model}/1` }),
          /email: SMTP password: environment variable PERENNIAL_TEST_SMTP_PASSWORD is not set/,
        );

        process.env[PASSWORD_ENV] = 'wrong';
        await assert.rejects(sendAlert({ alerts, alert: drift(model), alertId: `${model}/1` }), /email: SMTP 127\.0\.0\.1:\d+: .*535/);

        process.env[PASSWORD_ENV] = 'correct horse battery staple';
        const result = await sendAlert({ alerts, alert: drift(model), alertId: `${model}/1` });
        assert.deepEqual(result.delivered, ['email']);
        assert.equal(secured.mails.length, 1);
        assert.deepEqual(secured.mails[0].to, ['ml-team@example.com', 'oncall@example.com']);
        assert.ok(logins.length >= 2 && logins.every((l) => l.user === 'perennial'));
        assert.doesNotMatch(JSON.stringify(alerts), /correct horse/, 'the spec holds the name, never the secret');
      } finally {
        delete process.env[PASSWORD_ENV];
        await secured.close();
      }
    });

    test('an invalid alert is a non-retryable failure and leaves no trace', async () => {
      const model = uniqueModel();
      const bad = { ...drift(model), kind: 'outage', title: '' } as unknown as Alert;
      await assert.rejects(sendAlert({ alerts: spec(), alert: bad, alertId: `${model}/1` }), (err: Error) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.type, 'InvalidAlert');
        assert.match(err.message, /invalid alert:\n {2}- kind: must be one of drift, anomalies/);
        assert.match(err.message, /- title: an alert needs a title/);
        return true;
      });
      await assert.rejects(sendAlert({ alerts: spec(), alert: drift(model), alertId: '' }), /alertId must be a non-empty string/);
      assert.equal(await store.getAlert(`${model}/1`), undefined);
      assert.equal(postsFor(model).length, 0);
    });

    test('with no channel for the kind nothing is sent or counted', async () => {
      const model = uniqueModel();
      const alerts = spec({ webhooks: [{ url: `${webhook.url}/slack`, name: 'slack', kinds: ['rollback'] }], email: undefined });
      const result = await sendAlert({ alerts, alert: drift(model), alertId: `${model}/1` });
      assert.deepEqual(result, { alertId: `${model}/1`, delivered: [], failed: [] });
      assert.equal(await store.getAlert(`${model}/1`), undefined);
      assert.equal(postsFor(model).length, 0);
      // The default spec: alerts off.
      assert.deepEqual((await sendAlert({ alerts: AlertsSpec.parse({}), alert: drift(model), alertId: `${model}/2` })).delivered, []);
    });

    test('a webhook given by urlEnv is read from the worker environment at send time, and errors name only the variable', async () => {
      const model = uniqueModel();
      const token = 'T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx';
      const alerts = spec({ webhooks: [{ urlEnv: 'PERENNIAL_TEST_HOOK_URL', name: 'slack' }], email: undefined });
      process.env.PERENNIAL_TEST_HOOK_URL = `${webhook.url}/services/${token}`;
      try {
        const result = await sendAlert({ alerts, alert: drift(model), alertId: `${model}/1` });
        assert.deepEqual(result, { alertId: `${model}/1`, delivered: ['slack'], failed: [] });
        assert.deepEqual(
          postsFor(model).map((p) => p.path),
          [`/services/${token}`],
        );

        webhook.status = 500;
        const failure = await sendAlert({ alerts, alert: drift(model, { text: 'second' }), alertId: `${model}/2` }).then(
          () => assert.fail('expected the alert to fail'),
          (err: Error) => err,
        );
        assert.match(failure.message, /slack: webhook \$PERENNIAL_TEST_HOOK_URL answered 500/);
        assert.doesNotMatch(failure.message, /abcdefghijkl|services/);
      } finally {
        webhook.status = 200;
        delete process.env.PERENNIAL_TEST_HOOK_URL;
      }
      await assert.rejects(
        sendAlert({ alerts, alert: drift(model, { text: 'third' }), alertId: `${model}/3` }),
        /slack: webhook URL: environment variable PERENNIAL_TEST_HOOK_URL is not set on this worker/,
      );
      process.env.PERENNIAL_TEST_HOOK_URL = 'hooks.slack.com/services/x';
      try {
        await assert.rejects(
          sendAlert({ alerts, alert: drift(model, { text: 'fourth' }), alertId: `${model}/4` }),
          /environment variable PERENNIAL_TEST_HOOK_URL does not hold an http or https URL/,
        );
      } finally {
        delete process.env.PERENNIAL_TEST_HOOK_URL;
      }
    });
  });
}
