/**
 * Alert delivery: Slack-compatible webhooks and SMTP email, with a ledger in the serving
 * store (adapters/store, table `alerts`) that makes sending idempotent per alertId and
 * feeds the rate limit and dedup decided by core/alerts.ts.
 *
 * Delivery is at least once per channel. The ledger entry is written before anything is sent
 * (so the admission decision survives a crash and a retry doesn't see its own first attempt as
 * a duplicate) and each channel is recorded right after it took the alert. A crash between a
 * channel's success and its record makes the retry send to that channel once more; recording
 * before sending would instead lose the alert for good, and a lost "approval needed" costs
 * more than a repeated one.
 *
 * Failures: channels are tried independently, so one broken receiver doesn't silence the
 * others. When at least one channel has the alert the result lists the failed ones and the
 * activity succeeds; when none has it, the activity throws a retryable error. Any later call
 * with the same alertId (a Temporal retry, a re-run workflow) tries only the channels that
 * haven't taken it yet.
 */
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { request } from 'undici';
import { admit, channelsFor, redactUrl, type AlertKind, type Channel, type WebhookTarget } from '../core/alerts.ts';
import { Alert, AlertsSpec } from '../core/alerts-spec.ts';
import { emailMessage, slackPayload, truncate } from '../core/alert-messages.ts';
import { parseDuration } from '../core/duration.ts';
import { formatIssues } from '../core/spec.ts';
import type { AlertLedgerEntry } from '../adapters/store/index.ts';
import type { ActivityContext } from './context.ts';

const WEBHOOK_TIMEOUT_MS = 10_000;
const SMTP_TIMEOUT_MS = 10_000;

export interface SendAlertInput {
  alerts: AlertsSpec;
  alert: Alert;
  /** Idempotency key chosen by the workflow, e.g. `${workflowId}/${n}`. */
  alertId: string;
}

export interface AlertSuppressed {
  reason: 'duplicate' | 'rate-limited';
  detail: string;
}

export interface SendAlertResult {
  alertId: string;
  /** Channels that have the alert, from this attempt or an earlier one. */
  delivered: string[];
  suppressed?: AlertSuppressed;
  failed: Array<{ channel: string; error: string }>;
}

/** Retrying can't fix a malformed alert or spec: fail the activity for good, saying why. */
function parseInput(input: SendAlertInput): { spec: AlertsSpec; alert: Alert; alertId: string } {
  const spec = AlertsSpec.safeParse(input.alerts);
  if (!spec.success) throw ApplicationFailure.nonRetryable(`invalid alerts spec:\n${formatIssues(spec.error)}`, 'InvalidAlert');
  const alert = Alert.safeParse(input.alert);
  if (!alert.success) throw ApplicationFailure.nonRetryable(`invalid alert:\n${formatIssues(alert.error)}`, 'InvalidAlert');
  if (typeof input.alertId !== 'string' || input.alertId === '') {
    throw ApplicationFailure.nonRetryable('invalid alert: alertId must be a non-empty string', 'InvalidAlert');
  }
  return { spec: spec.data, alert: alert.data, alertId: input.alertId };
}

/**
 * The URL to post to, read from the worker's environment when the spec names a variable. Errors
 * name the variable or the redacted URL, never the URL a variable holds: they end up in history.
 */
function resolveWebhook(target: WebhookTarget): { url: string; where: string } {
  if ('url' in target) return { url: target.url, where: redactUrl(target.url) };
  const url = process.env[target.urlEnv];
  const where = `$${target.urlEnv}`;
  if (url === undefined || url === '') throw new Error(`webhook URL: environment variable ${target.urlEnv} is not set on this worker`);
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url))
    throw new Error(`webhook URL: environment variable ${target.urlEnv} does not hold an http or https URL`);
  return { url, where };
}

async function postWebhook(target: WebhookTarget, alert: Alert): Promise<void> {
  const { url, where } = resolveWebhook(target);
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(slackPayload(alert)),
    headersTimeout: WEBHOOK_TIMEOUT_MS,
    bodyTimeout: WEBHOOK_TIMEOUT_MS,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  }).catch((err: Error) => {
    // undici's messages name the host and port at most, never the path that may hold a token.
    throw new Error(`webhook ${where} unreachable: ${err.message}`);
  });
  const body = await response.body.text().catch(() => '');
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new Error(`webhook ${where} answered ${response.statusCode}${body ? `: ${truncate(body, 200)}` : ''}`);
  }
}

async function sendEmail(email: Extract<Channel, { type: 'email' }>['email'], alert: Alert): Promise<void> {
  const { smtp } = email;
  let auth: { user: string; pass: string } | undefined;
  if (smtp.user !== undefined && smtp.passwordEnv !== undefined) {
    const pass = process.env[smtp.passwordEnv];
    if (pass === undefined) throw new Error(`SMTP password: environment variable ${smtp.passwordEnv} is not set on this worker`);
    auth = { user: smtp.user, pass };
  }
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({ from: email.from, to: email.to, ...emailMessage(alert) });
  } catch (err) {
    // No cause: it would carry nodemailer's error (stack, server response) into the activity failure in workflow history; its message is enough.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`SMTP ${smtp.host}:${smtp.port}: ${(err as Error).message}`);
  } finally {
    transport.close();
  }
}

/** Channels finish in any order; results list them as the spec does, whatever took it first. */
function inChannelOrder(delivered: string[], channels: Channel[]): string[] {
  const order = channels.map((c) => c.name);
  return [...order.filter((name) => delivered.includes(name)), ...delivered.filter((name) => !order.includes(name))];
}

function deliver(channel: Channel, alert: Alert): Promise<void> {
  return channel.type === 'webhook' ? postWebhook(channel.target, alert) : sendEmail(channel.email, alert);
}

export function alertActivities(ctx: ActivityContext) {
  /** The ledger entry for this alert: the first attempt's, or a new one with the admission verdict. */
  function claim(spec: AlertsSpec, alert: Alert, alertId: string): Promise<AlertLedgerEntry> {
    const lookback = Math.max(parseDuration(spec.dedupWindow), parseDuration(spec.rateLimit.per));
    return ctx.store.claimAlert(
      { id: alertId, model: alert.model, kind: alert.kind, dedupKey: alert.dedupKey },
      lookback,
      (history, now) => {
        const admission = admit(
          history.map((h) => ({ at: h.at, model: h.model, kind: h.kind as AlertKind, dedupKey: h.dedupKey })),
          alert,
          now,
          spec,
        );
        return admission.send ? undefined : { reason: admission.reason, detail: admission.detail };
      },
    );
  }

  return {
    async sendAlert(input: SendAlertInput): Promise<SendAlertResult> {
      const { spec, alert, alertId } = parseInput(input);
      const channels = channelsFor(spec, alert.kind);
      // Nobody listens for this kind: nothing to send, and nothing to count against the limit.
      if (channels.length === 0) return { alertId, delivered: [], failed: [] };

      const entry = await claim(spec, alert, alertId);
      if (entry.suppressed) return { alertId, delivered: [], suppressed: entry.suppressed as AlertSuppressed, failed: [] };

      const pending = channels.filter((c) => !entry.delivered.includes(c.name));
      const outcomes = await Promise.all(
        pending.map(async (channel) => {
          try {
            await deliver(channel, alert);
            await ctx.store.recordAlertDelivery(alertId, channel.name);
            return { channel: channel.name };
          } catch (err) {
            return { channel: channel.name, error: (err as Error).message };
          }
        }),
      );

      const failed = outcomes.filter((o): o is { channel: string; error: string } => o.error !== undefined);
      const delivered = inChannelOrder((await ctx.store.getAlert(alertId))?.delivered ?? [], channels);
      if (delivered.length === 0 && failed.length > 0) {
        throw ApplicationFailure.retryable(
          `alert ${alertId} reached no channel:\n${failed.map((f) => `  - ${f.channel}: ${f.error}`).join('\n')}`,
          'AlertDeliveryFailed',
        );
      }
      return { alertId, delivered, failed };
    },
  };
}
