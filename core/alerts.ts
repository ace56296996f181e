/**
 * Alert notifications: what a model spec says about them (channels, rate limit, dedup), the
 * messages themselves (Slack-compatible webhook JSON, email) and the admission decision.
 * Pure module: the activity in activities/alerts.ts does the sending and keeps the ledger;
 * workflows may import it too (e.g. `channelsFor` to skip an alert nobody would receive).
 */
import { z } from 'zod';
import { Duration, parseDuration } from './duration.ts';
import type { MonitoringSummary } from './monitoring.ts';

export const ALERT_KINDS = ['drift', 'anomalies', 'retrain', 'approval-needed', 'rollback', 'promotion'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** How each kind reads in a message's footer and the fallback text. */
export const KIND_LABELS: Record<AlertKind, string> = {
  drift: 'Input drift',
  anomalies: 'Data anomalies',
  retrain: 'Retraining started',
  'approval-needed': 'Approval needed',
  rollback: 'Canary rolled back',
  promotion: 'New champion',
};

// ---- spec -----------------------------------------------------------------------------------

const duration = Duration;

const AlertKindSchema = z.enum(ALERT_KINDS, { error: () => `must be one of ${ALERT_KINDS.join(', ')}` });

/** Which kinds a channel receives; every kind unless it says otherwise. */
const kinds = z
  .array(AlertKindSchema)
  .min(1, 'list at least one alert kind, or leave kinds out for all')
  .default([...ALERT_KINDS]);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

const envName = (example: string, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, `the NAME of an environment variable holding ${what} (e.g. ${example}), never the value itself`);

/** Path segments this long may be tokens: refused in a plain url, masked by redactUrl. */
const SECRET_SEGMENT_LENGTH = 16;

/**
 * Whether a plain webhook URL might hold a credential: a user or password, a query or fragment,
 * or a path segment long enough to be a token (Slack, Discord and Teams put theirs in the path).
 * The spec travels in workflow histories, so such a URL must come from the environment instead.
 */
function urlSecretReason(url: string): string | undefined {
  const u = new URL(url);
  if (u.username || u.password) return 'it has a user or password';
  if (u.search) return 'it has a query string';
  if (u.hash) return 'it has a fragment';
  if (u.pathname.split('/').some((segment) => segment.length >= SECRET_SEGMENT_LENGTH))
    return `a path segment is ${SECRET_SEGMENT_LENGTH} or more characters, like a token`;
  return undefined;
}

const Webhook = z
  .strictObject({
    /** Only for a URL with nothing secret in it (e.g. a receiver inside your network); see urlSecretReason. */
    url: httpUrl.optional(),
    /** The environment variable on the worker that holds the URL, read when the alert is sent. */
    urlEnv: envName('SLACK_WEBHOOK_URL', 'the webhook URL').optional(),
    kinds,
    /** Names the channel in results and errors; defaults to "webhook <host>" or "webhook <urlEnv>". */
    name: z.string().min(1).optional(),
  })
  .superRefine((webhook, ctx) => {
    if ((webhook.url === undefined) === (webhook.urlEnv === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['urlEnv'],
        message: 'give the webhook either urlEnv (the name of an environment variable holding its URL) or url, not both and not neither',
      });
      return;
    }
    const reason = webhook.url === undefined ? undefined : urlSecretReason(webhook.url);
    if (reason) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `this URL may hold a secret (${reason}), and the spec is stored in workflow history: put the URL in an environment variable on the worker and give its name instead, e.g. urlEnv: SLACK_WEBHOOK_URL`,
      });
    }
  });

const Email = z.strictObject({
  smtp: z
    .strictObject({
      host: z.string().min(1, 'the SMTP server host is required'),
      port: z.number().int().min(1).max(65535).default(587),
      /** TLS from the first byte (port 465); false means STARTTLS when the server offers it. */
      secure: z.boolean().default(false),
      user: z.string().min(1).optional(),
      // The spec travels in workflow histories: it names the secret, the worker's environment holds it.
      passwordEnv: envName('SMTP_PASSWORD', 'the password').optional(),
    })
    .refine((smtp) => (smtp.user === undefined) === (smtp.passwordEnv === undefined), {
      message: 'user and passwordEnv go together: give both for an SMTP server that needs a login, or neither',
    }),
  /** "alerts@example.com" or "Perennial <alerts@example.com>". */
  from: z.string().regex(/<?[^\s<>@]+@[^\s<>@]+>?\s*$/, 'must be an email address, e.g. "Perennial <alerts@example.com>"'),
  to: z.array(z.email({ error: 'must be an email address' })).min(1, 'list at least one recipient'),
  kinds,
});

export const AlertsSpec = z
  .strictObject({
    webhooks: z.array(Webhook).default([]),
    email: Email.optional(),
    /** At most `max` alerts of one kind for one model within `per`, all channels together; "0s" turns it off. */
    rateLimit: z
      .strictObject({
        max: z.number().int().positive().default(5),
        per: duration.default('1h'),
      })
      .prefault({}),
    /** An alert with the dedupKey of one sent within this window is not sent again; "0s" turns it off. */
    dedupWindow: duration.default('1h'),
  })
  .superRefine((spec, ctx) => {
    // Names key the per-channel delivery records, so two channels must not share one.
    const seen = new Map<string, number>();
    for (const [i, channel] of channelNames(spec).entries()) {
      const first = seen.get(channel);
      if (first === undefined) {
        seen.set(channel, i);
        continue;
      }
      // The email channel comes last; a clash with it is the earlier webhook's name.
      const webhook = i < spec.webhooks.length ? i : first;
      ctx.addIssue({
        code: 'custom',
        path: ['webhooks', webhook, 'name'],
        message: `two channels are called "${channel}": give each webhook a distinct name`,
      });
    }
  });

export type AlertsSpec = z.infer<typeof AlertsSpec>;
export type AlertsSpecInput = z.input<typeof AlertsSpec>;

export const Alert = z.strictObject({
  kind: AlertKindSchema,
  model: z.string().min(1),
  title: z.string().min(1, 'an alert needs a title'),
  text: z.string(),
  fields: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** Alerts of one model and kind with the same dedupKey are sent once per dedup window. */
  dedupKey: z.string().min(1).optional(),
  /** Where to look: an MLflow run, the Temporal UI, the model server. */
  link: httpUrl.optional(),
});

export type Alert = z.infer<typeof Alert>;

// ---- channels -------------------------------------------------------------------------------

/** A webhook's URL as the spec gives it: the URL itself, or the environment variable that holds it. */
export type WebhookTarget = { url: string } | { urlEnv: string };

export type Channel =
  { type: 'webhook'; name: string; target: WebhookTarget } | { type: 'email'; name: 'email'; email: NonNullable<AlertsSpec['email']> };

/** Webhooks in order, then email: the names results and the ledger use. */
function channelNames(spec: Pick<AlertsSpec, 'webhooks' | 'email'>): string[] {
  const names = spec.webhooks.map((w) => w.name ?? (w.url !== undefined ? `webhook ${new URL(w.url).host}` : `webhook ${w.urlEnv}`));
  return spec.email ? [...names, 'email'] : names;
}

/**
 * Whether any channel takes this kind of alert. For workflow code, which skips the activity when
 * nobody listens; unlike channelsFor it needs no URL parsing (not available in workflows).
 */
export function listens(spec: AlertsSpec, kind: AlertKind): boolean {
  return spec.webhooks.some((w) => w.kinds.includes(kind)) || spec.email?.kinds.includes(kind) === true;
}

/** The channels that receive alerts of this kind; none when nothing is configured. */
export function channelsFor(spec: AlertsSpec, kind: AlertKind): Channel[] {
  const names = channelNames(spec);
  const channels: Channel[] = [];
  spec.webhooks.forEach((w, i) => {
    if (w.kinds.includes(kind))
      channels.push({ type: 'webhook', name: names[i], target: w.url !== undefined ? { url: w.url } : { urlEnv: w.urlEnv! } });
  });
  if (spec.email?.kinds.includes(kind)) channels.push({ type: 'email', name: 'email', email: spec.email });
  return channels;
}

/**
 * A webhook URL fit for error messages and workflow history: no credentials or query, and long
 * path segments masked, since services like Slack and Discord put the secret in the path.
 */
export function redactUrl(url: string): string {
  const u = new URL(url);
  const path = u.pathname
    .split('/')
    .map((segment) => (segment.length >= SECRET_SEGMENT_LENGTH ? '…' : segment))
    .join('/');
  return `${u.protocol}//${u.host}${path}`;
}

// ---- admission: rate limit and dedup --------------------------------------------------------

export interface AlertHistoryEntry {
  /** When it was admitted, in ms since the epoch. */
  at: number;
  model: string;
  kind: AlertKind;
  dedupKey?: string;
}

export type Admission = { send: true } | { send: false; reason: 'duplicate' | 'rate-limited'; detail: string };

/**
 * Whether an alert goes out, given the alerts admitted before it (suppressed ones don't count:
 * they were never sent). Both the dedup and the rate limit are per model and kind, and an entry
 * exactly a window old has left the window.
 */
export function admit(
  history: AlertHistoryEntry[],
  alert: Pick<Alert, 'kind' | 'model' | 'dedupKey'>,
  now: number,
  spec: Pick<AlertsSpec, 'rateLimit' | 'dedupWindow'>,
): Admission {
  const same = history.filter((h) => h.model === alert.model && h.kind === alert.kind && h.at <= now);

  const dedupWindow = parseDuration(spec.dedupWindow);
  if (alert.dedupKey !== undefined) {
    const previous = same.filter((h) => h.dedupKey === alert.dedupKey && h.at > now - dedupWindow);
    if (previous.length > 0) {
      const last = Math.max(...previous.map((h) => h.at));
      return {
        send: false,
        reason: 'duplicate',
        detail: `"${alert.dedupKey}" was already sent for ${alert.model} ${humanDuration(now - last)} ago (dedup window ${humanDuration(dedupWindow)})`,
      };
    }
  }

  const per = parseDuration(spec.rateLimit.per);
  const { max } = spec.rateLimit;
  const recent = same
    .filter((h) => h.at > now - per)
    .map((h) => h.at)
    .sort((a, b) => a - b);
  if (recent.length >= max) {
    // The next one may go once enough of the recent ones have aged out of the window.
    const nextAt = recent[recent.length - max] + per;
    return {
      send: false,
      reason: 'rate-limited',
      detail: `${recent.length} ${alert.kind} alerts for ${alert.model} within ${humanDuration(per)} (limit ${max}); the next may go in ${humanDuration(nextAt - now)}`,
    };
  }
  return { send: true };
}

/** "1h 5m", "30s", "250ms": the two largest units, for messages. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / seconds);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * seconds;
  }
  return parts.slice(0, 2).join(' ');
}

/** The alerts a monitoring cycle's findings call for: input drift, input anomalies (deduplicated per champion and feature set). */
export function findingAlerts(model: string, s: MonitoringSummary): Array<Omit<Alert, 'model'>> {
  const alerts: Array<Omit<Alert, 'model'>> = [];
  const where = s.report ? ` (report: ${s.report} of the champion's monitoring run)` : '';
  if (s.drift.drifted.length > 0) {
    const tests = s.drift.features.filter((f) => f.drifted).map((f) => `${f.name}: ${f.test} ${(f.pValue ?? f.statistic).toPrecision(3)}`);
    alerts.push({
      kind: 'drift',
      title: `Input drift on ${s.drift.drifted.length} of ${s.drift.features.length} features of ${model}`,
      text: `Monitoring cycle ${s.cycle} of v${s.championVersion} over ${s.drift.rows} predictions${where}.\n${tests.join('\n')}`,
      fields: { drifted: s.drift.drifted.join(', '), share: Number(s.drift.driftedShare.toFixed(3)) },
      dedupKey: `drift:v${s.championVersion}:${s.drift.drifted.join(',')}`,
    });
  }
  const anomalous = Object.entries(s.anomalies.features);
  if (anomalous.length > 0) {
    alerts.push({
      kind: 'anomalies',
      title: `Input anomalies in ${anomalous.length} features of ${model}`,
      text: anomalous
        .map(
          ([name, a]) =>
            `${name}: ${a.missing} missing, ${a.wrongType} wrong type, ${a.outOfRange} out of range, ${a.unseenCategory} unseen; ${a.examples.slice(0, 2).join('; ')}`,
        )
        .join('\n'),
      fields: { anomaly_rate: Number((s.anomalies.anomalyRate ?? 0).toFixed(4)), rows: s.anomalies.rows },
      dedupKey: `anomalies:v${s.championVersion}:${anomalous.map(([name]) => name).join(',')}`,
    });
  }
  return alerts;
}
