import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { admit, ALERT_KINDS, channelsFor, findingAlerts, humanDuration, redactUrl, type AlertHistoryEntry } from '../../core/alerts.ts';
import { Alert, AlertsSpec } from '../../core/alerts-spec.ts';
import { emailMessage, SLACK_LIMITS, slackPayload, type SlackBlock } from '../../core/alert-messages.ts';
import type { MonitoringSummary } from '../../core/monitoring.ts';
import { formatIssues } from '../../core/spec.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

function problems(input: unknown): string {
  const result = AlertsSpec.safeParse(input);
  assert.equal(result.success, false, 'expected the spec to be refused');
  return formatIssues(result.error!);
}

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  kind: 'drift',
  model: 'weather',
  title: 'Drift on weather',
  text: '3 of 4 features drifted',
  ...overrides,
});

test('an empty alerts spec turns alerts off and carries the default limits', () => {
  const spec = AlertsSpec.parse({});
  assert.deepEqual(spec, { webhooks: [], rateLimit: { max: 5, per: '1h' }, dedupWindow: '1h' });
  for (const kind of ALERT_KINDS) assert.deepEqual(channelsFor(spec, kind), []);
});

test('channels get every kind unless they list some, and defaults for SMTP', () => {
  const spec = AlertsSpec.parse({
    webhooks: [{ url: 'https://hooks.example.com/a' }, { url: 'http://127.0.0.1:9000/b', name: 'ops', kinds: ['rollback'] }],
    email: {
      smtp: { host: 'smtp.example.com' },
      from: 'Perennial <alerts@example.com>',
      to: ['ml@example.com'],
      kinds: ['approval-needed', 'rollback'],
    },
  });
  assert.deepEqual(spec.webhooks[0].kinds, [...ALERT_KINDS]);
  assert.deepEqual(spec.email?.smtp, { host: 'smtp.example.com', port: 587, secure: false });
  assert.deepEqual(
    channelsFor(spec, 'drift').map((c) => c.name),
    ['webhook hooks.example.com'],
  );
  assert.deepEqual(
    channelsFor(spec, 'rollback').map((c) => c.name),
    ['webhook hooks.example.com', 'ops', 'email'],
  );
  assert.deepEqual(
    channelsFor(spec, 'approval-needed').map((c) => c.type),
    ['webhook', 'email'],
  );
});

test('a bad alerts spec lists every problem with its path', () => {
  const message = problems({
    webhooks: [{ url: 'ftp://example.com/hook', kinds: ['drift', 'weather'] }],
    email: { smtp: { host: 'smtp.example.com', port: 70000, user: 'bot', passwordEnv: 's3cret pass!' }, from: 'nobody', to: [] },
    rateLimit: { max: 0, per: 'hourly' },
    dedupWindow: -5,
    webhook: { url: 'https://typo.example.com' },
  });
  assert.match(message, /- webhooks\.0\.url: must be an http or https URL/);
  assert.match(message, /- webhooks\.0\.kinds\.1: must be one of drift, anomalies, retrain, approval-needed, rollback, promotion/);
  assert.match(message, /- email\.smtp\.port: Too big/);
  assert.match(message, /- email\.smtp\.passwordEnv: the NAME of an environment variable holding the password/);
  assert.match(message, /- email\.from: must be an email address/);
  assert.match(message, /- email\.to: list at least one recipient/);
  assert.match(message, /- rateLimit\.max: Too small/);
  assert.match(message, /- rateLimit\.per: "hourly" is not a duration/);
  assert.match(message, /- dedupWindow: duration must be a non-negative number/);
  // A misspelt key would otherwise switch alerts off without a word.
  assert.match(message, /Unrecognized key: "webhook"/);
});

test('SMTP login needs both user and passwordEnv; channel names must be unique', () => {
  const email = { from: 'alerts@example.com', to: ['ml@example.com'] };
  assert.match(problems({ email: { ...email, smtp: { host: 'h', user: 'bot' } } }), /email\.smtp: user and passwordEnv go together/);
  assert.match(
    problems({ webhooks: [{ url: 'https://hooks.example.com/a' }, { url: 'https://hooks.example.com/b' }] }),
    /- webhooks\.1\.name: two channels are called "webhook hooks\.example\.com"/,
  );
  assert.match(
    problems({ webhooks: [{ url: 'https://x.example.com', name: 'email' }], email: { ...email, smtp: { host: 'h' } } }),
    /webhooks\.0\.name: two channels are called "email"/,
  );
});

test('an alert is validated with readable errors', () => {
  const result = Alert.safeParse({
    kind: 'outage',
    model: 'weather',
    title: '',
    text: 'x',
    fields: { n: true },
    link: 'javascript:alert(1)',
  });
  assert.equal(result.success, false);
  const message = formatIssues(result.error!);
  assert.match(message, /- kind: must be one of/);
  assert.match(message, /- title: an alert needs a title/);
  assert.match(message, /- fields\.n: Invalid input/);
  assert.match(message, /- link: must be an http or https URL/);
});

test('webhook URLs in messages lose credentials, query and token-like path segments', () => {
  assert.equal(
    redactUrl('https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx'),
    'https://hooks.slack.com/services/T0123ABCD/B0123ABCD/…',
  );
  assert.equal(redactUrl('http://user:pw@127.0.0.1:8080/hook?token=x'), 'http://127.0.0.1:8080/hook');
});

// ---- slackPayload ---------------------------------------------------------------------------

function block<T extends SlackBlock['type']>(blocks: SlackBlock[], type: T, nth = 0): Extract<SlackBlock, { type: T }> {
  const found = blocks.filter((b) => b.type === type)[nth];
  assert.ok(found, `no ${type} block #${nth}`);
  return found as Extract<SlackBlock, { type: T }>;
}

test('slackPayload: fallback text, header, section, fields and context', () => {
  const payload = slackPayload(alert({ fields: { 'drifted features': 3, 'p-value': '0.001' }, link: 'https://mlflow.example.com/runs/1' }));
  assert.match(payload.text, /^\[weather\] Drift on weather: 3 of 4 features drifted/);
  assert.deepEqual(
    payload.blocks.map((b) => b.type),
    ['header', 'section', 'section', 'context'],
  );
  assert.deepEqual(block(payload.blocks, 'header').text, { type: 'plain_text', text: 'Drift on weather', emoji: true });
  const section = payload.blocks[1] as { text: { type: string; text: string } };
  assert.equal(section.text.type, 'mrkdwn');
  assert.equal(section.text.text, '3 of 4 features drifted\n<https://mlflow.example.com/runs/1|Open>');
  const fields = (payload.blocks[2] as { fields: Array<{ type: string; text: string }> }).fields;
  assert.deepEqual(fields, [
    { type: 'mrkdwn', text: '*drifted features*\n3' },
    { type: 'mrkdwn', text: '*p-value*\n0.001' },
  ]);
  assert.match(block(payload.blocks, 'context').elements[0].text, /Input drift · model weather/);
  // Without fields there is no empty fields section (Slack rejects one).
  assert.deepEqual(
    slackPayload(alert()).blocks.map((b) => b.type),
    ['header', 'section', 'context'],
  );
});

test('slackPayload stays within Slack limits and escapes mrkdwn control characters', () => {
  const fields = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`f${i}`, 'v'.repeat(3000)]));
  const payload = slackPayload(
    alert({ title: 'T'.repeat(400), text: `<!channel> a & b ${'&'.repeat(5000)}`, fields, link: 'https://example.com/x' }),
  );
  const header = block(payload.blocks, 'header').text.text;
  assert.equal(header.length, SLACK_LIMITS.header);
  assert.ok(header.endsWith('…'));
  const section = (payload.blocks[1] as { text: { text: string } }).text.text;
  assert.ok(section.length <= SLACK_LIMITS.sectionText, `section text is ${section.length} long`);
  assert.ok(section.startsWith('&lt;!channel&gt; a &amp; b'), 'no @channel ping smuggled in an alert text');
  assert.ok(section.endsWith('…\n<https://example.com/x|Open>'), 'truncation keeps the link');
  assert.doesNotMatch(section, /&[a-z]*…/, 'no entity cut in half');
  const shown = (payload.blocks[2] as { fields: Array<{ text: string }> }).fields;
  assert.equal(shown.length, SLACK_LIMITS.fields);
  assert.equal(shown.at(-1)!.text, '*…*\n5 more');
  for (const f of shown) assert.ok(f.text.length <= SLACK_LIMITS.fieldText);
  assert.ok(payload.text.length <= SLACK_LIMITS.fallbackText);
});

test('truncation never splits an emoji', () => {
  const header = block(slackPayload(alert({ title: `${'x'.repeat(148)}🚨🚨` })).blocks, 'header').text.text;
  assert.equal(header, `${'x'.repeat(148)}…`);
});

// ---- emailMessage ---------------------------------------------------------------------------

test('emailMessage: subject on one line, plain text, escaped HTML', () => {
  const message = emailMessage(
    alert({
      kind: 'approval-needed',
      title: 'Approve <v2>\nnow',
      text: 'Challenger "v2" beats <b>champion</b> & co.\nSecond line',
      fields: { accuracy: 0.91, '<key>': '<value>' },
      link: 'https://ui.example.com/a?b=1&c=2',
    }),
  );
  assert.equal(message.subject, '[Perennial] weather: Approve <v2> now');
  assert.match(
    message.text,
    /^Approve <v2>\nnow\n\nChallenger "v2" beats <b>champion<\/b> & co\.\nSecond line\n\naccuracy: 0\.91\n<key>: <value>\n\nhttps:\/\/ui\.example\.com\/a\?b=1&c=2\n\n-- \nPerennial · Approval needed · model weather$/,
  );
  assert.match(message.html, /<h2>Approve &lt;v2&gt;\nnow<\/h2>/);
  assert.match(message.html, /<p>Challenger &quot;v2&quot; beats &lt;b&gt;champion&lt;\/b&gt; &amp; co\.<br>Second line<\/p>/);
  assert.match(message.html, /<th align="left">&lt;key&gt;<\/th><td>&lt;value&gt;<\/td>/);
  assert.match(message.html, /<a href="https:\/\/ui\.example\.com\/a\?b=1&amp;c=2">/);
  assert.doesNotMatch(message.html, /<b>|<v2>/);
});

// ---- admit ----------------------------------------------------------------------------------

const limits = AlertsSpec.parse({ rateLimit: { max: 3, per: '1h' }, dedupWindow: '30m' });
const NOW = Date.parse('2025-06-01T12:00:00Z');
const sent = (minutesAgo: number, overrides: Partial<AlertHistoryEntry> = {}): AlertHistoryEntry => ({
  at: NOW - minutesAgo * MINUTE,
  model: 'weather',
  kind: 'drift',
  ...overrides,
});

test('admit: the first alert goes', () => {
  assert.deepEqual(admit([], alert({ dedupKey: 'k' }), NOW, limits), { send: true });
});

test('admit: the same dedupKey inside the window is a duplicate, outside it is not', () => {
  const verdict = admit([sent(10, { dedupKey: 'drift:temp_max' })], alert({ dedupKey: 'drift:temp_max' }), NOW, limits);
  assert.deepEqual(verdict, {
    send: false,
    reason: 'duplicate',
    detail: '"drift:temp_max" was already sent for weather 10m ago (dedup window 30m)',
  });
  assert.deepEqual(admit([sent(31, { dedupKey: 'drift:temp_max' })], alert({ dedupKey: 'drift:temp_max' }), NOW, limits), { send: true });
  assert.deepEqual(
    admit([sent(30, { dedupKey: 'drift:temp_max' })], alert({ dedupKey: 'drift:temp_max' }), NOW, limits),
    { send: true },
    'exactly a window old has left it',
  );
  assert.deepEqual(admit([sent(10, { dedupKey: 'other' })], alert({ dedupKey: 'drift:temp_max' }), NOW, limits), { send: true });
  assert.deepEqual(admit([sent(10, { dedupKey: 'drift:temp_max' })], alert(), NOW, limits), { send: true }, 'no dedupKey, no dedup');
  const off = AlertsSpec.parse({ dedupWindow: '0s' });
  assert.deepEqual(admit([sent(0, { dedupKey: 'k' })], alert({ dedupKey: 'k' }), NOW, off), { send: true });
});

test('admit: the rate limit counts alerts of one kind and model within the period', () => {
  const history = [sent(50), sent(20), sent(5)];
  const verdict = admit(history, alert(), NOW, limits);
  assert.equal(verdict.send, false);
  assert.equal(verdict.send === false && verdict.reason, 'rate-limited');
  assert.equal(verdict.send === false && verdict.detail, '3 drift alerts for weather within 1h (limit 3); the next may go in 10m');
  assert.deepEqual(admit([sent(61), sent(20), sent(5)], alert(), NOW, limits), { send: true }, 'the oldest has aged out');
  assert.deepEqual(admit([sent(20), sent(5)], alert(), NOW, limits), { send: true });
});

test('admit: other kinds and other models have their own limits and dedup', () => {
  const busy = [sent(50), sent(20), sent(5, { dedupKey: 'k' })];
  assert.deepEqual(admit(busy, alert({ kind: 'rollback', dedupKey: 'k' }), NOW, limits), { send: true });
  assert.deepEqual(admit(busy, alert({ model: 'digits', dedupKey: 'k' }), NOW, limits), { send: true });
  const mixed = [sent(5, { kind: 'retrain' }), sent(5, { model: 'digits' }), sent(5, { kind: 'promotion', model: 'digits' }), sent(5)];
  assert.deepEqual(admit(mixed, alert(), NOW, limits), { send: true });
});

test('admit: duplicates are reported before the rate limit, and future entries are ignored', () => {
  const history = [sent(50), sent(20), sent(5, { dedupKey: 'k' })];
  const verdict = admit(history, alert({ dedupKey: 'k' }), NOW, limits);
  assert.equal(verdict.send === false && verdict.reason, 'duplicate');
  assert.deepEqual(admit([sent(-5), sent(-6), sent(-7)], alert(), NOW, limits), { send: true });
});

test('humanDuration reads like a person would write it', () => {
  assert.equal(humanDuration(250), '250ms');
  assert.equal(humanDuration(30_000), '30s');
  assert.equal(humanDuration(HOUR + 5 * MINUTE + 7000), '1h 5m');
  assert.equal(humanDuration(2 * 86_400_000), '2d');
});

describe('findingAlerts', () => {
  const summary = (drifted: string[], anomalies: MonitoringSummary['anomalies']['features']): MonitoringSummary => ({
    version: 2,
    at: '2026-01-01T00:00:00Z',
    cycle: 4,
    championVersion: '3',
    performance: {
      n: 0,
      accuracy: null,
      precisionMacro: null,
      recallMacro: null,
      f1Macro: null,
      logLoss: null,
      perClass: {},
      implicit: { accepted: 0, overridden: 0 },
    },
    drift: {
      rows: 400,
      tested: true,
      features: ['a', 'b'].map((name) => ({
        name,
        test: 'ks',
        statistic: 0.4,
        pValue: drifted.includes(name) ? 1.23456e-7 : 0.5,
        threshold: 0.05,
        drifted: drifted.includes(name),
      })),
      drifted,
      driftedShare: drifted.length / 2,
      skipped: [],
    },
    predictions: { n: 0, classDrift: null, meanConfidence: null, lowConfidenceShare: null },
    anomalies: { rows: 400, anomalyRate: Object.keys(anomalies).length ? 0.0025 : 0, features: anomalies },
    detectors: {
      adwin: { drift: false, warning: false, errors: 0 },
      ddm: { drift: false, warning: false, errors: 0 },
      'page-hinkley': { drift: false, warning: false, errors: 0 },
    },
    newLabels: 0,
    newRows: 400,
    report: 'monitoring/cycle-0004/drift.html',
  });

  it('one alert per kind of finding, deduplicated per champion and feature set', () => {
    const alerts = findingAlerts(
      'weather',
      summary(['b'], { wind: { missing: 0, wrongType: 1, outOfRange: 0, unseenCategory: 0, examples: ['wrongType in row 0: "calm"'] } }),
    );
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.title, a.dedupKey]),
      [
        ['drift', 'Input drift on 1 of 2 features of weather', 'drift:v3:b'],
        ['anomalies', 'Input anomalies in 1 features of weather', 'anomalies:v3:wind'],
      ],
    );
    assert.match(alerts[0].text, /cycle 4 of v3 over 400 predictions \(report: monitoring\/cycle-0004\/drift\.html .*\)\.\nb: ks 1\.23e-7/);
    assert.match(alerts[1].text, /^wind: 0 missing, 1 wrong type, 0 out of range, 0 unseen; wrongType in row 0: "calm"$/);
    assert.deepEqual(findingAlerts('weather', summary([], {})), []);
  });
});

test('a webhook names the environment variable holding its URL; the URL itself never enters the spec', () => {
  const spec = AlertsSpec.parse({
    webhooks: [{ urlEnv: 'SLACK_WEBHOOK_URL', kinds: ['drift'] }, { url: 'http://alerts.internal:9000/perennial' }],
  });
  assert.deepEqual(
    channelsFor(spec, 'drift').map((c) => (c.type === 'webhook' ? [c.name, c.target] : c.name)),
    [
      ['webhook SLACK_WEBHOOK_URL', { urlEnv: 'SLACK_WEBHOOK_URL' }],
      ['webhook alerts.internal:9000', { url: 'http://alerts.internal:9000/perennial' }],
    ],
  );
});

test('a plain webhook URL that may hold a secret is refused with what to do instead', () => {
  const secretUrls = {
    'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx': /a path segment is 16 or more characters/,
    'https://bot:hunter2@hooks.example.com/a': /it has a user or password/,
    'https://hooks.example.com/a?token=abc': /it has a query string/,
    'https://hooks.example.com/a#abc': /it has a fragment/,
  };
  for (const [url, reason] of Object.entries(secretUrls)) {
    const message = problems({ webhooks: [{ url }] });
    assert.match(
      message,
      /- webhooks\.0\.url: this URL may hold a secret .*stored in workflow history: put the URL in an environment variable on the worker and give its name instead, e\.g\. urlEnv: SLACK_WEBHOOK_URL/,
    );
    assert.match(message, reason);
    assert.doesNotMatch(message, /hunter2|abcdefghijkl|token=/, 'the refusal must not repeat the secret');
  }
  assert.match(
    problems({ webhooks: [{ urlEnv: 'https://hooks.slack.com/services/x' }] }),
    /- webhooks\.0\.urlEnv: the NAME of an environment variable holding the webhook URL \(e\.g\. SLACK_WEBHOOK_URL\), never the value itself/,
  );
  assert.match(
    problems({ webhooks: [{ kinds: ['drift'] }] }),
    /- webhooks\.0\.urlEnv: give the webhook either urlEnv .* or url, not both and not neither/,
  );
  assert.match(problems({ webhooks: [{ url: 'https://a.example.com/x', urlEnv: 'HOOK' }] }), /not both and not neither/);
});
