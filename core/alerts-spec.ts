/**
 * What a model spec says about alerts (channels, rate limit, dedup) and what an alert is: the
 * zod schemas, apart from the alert logic in alerts.ts so that workflows, which use the logic,
 * do not build them (see spec-reading.ts).
 */
import { z } from 'zod';
import { Duration } from './duration.ts';
import { ALERT_KINDS, channelNames, SECRET_SEGMENT_LENGTH } from './alerts.ts';

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
