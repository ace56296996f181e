/**
 * Alert notifications: the kinds, each channel an alerts spec names, the admission decision
 * (rate limit, dedup) and the alerts a monitoring summary raises. What a spec may say about
 * alerts is validated by the schemas in alerts-spec.ts, kept out of the workflow bundle (see
 * spec-reading.ts). Pure module: the activity in activities/alerts.ts does the sending and keeps
 * the ledger; workflows may import it too (e.g. `channelsFor` to skip an alert nobody would receive).
 */
import { parseDuration } from './duration.ts';
import type { Alert, AlertsSpec } from './alerts-spec.ts';
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

/** Path segments this long may be tokens: refused in a plain url (alerts-spec.ts), masked by redactUrl. */
export const SECRET_SEGMENT_LENGTH = 16;

export type { Alert, AlertsSpec, AlertsSpecInput } from './alerts-spec.ts';

// ---- channels -------------------------------------------------------------------------------

/** A webhook's URL as the spec gives it: the URL itself, or the environment variable that holds it. */
export type WebhookTarget = { url: string } | { urlEnv: string };

export type Channel =
  { type: 'webhook'; name: string; target: WebhookTarget } | { type: 'email'; name: 'email'; email: NonNullable<AlertsSpec['email']> };

/** Webhooks in order, then email: the names results and the ledger use. */
export function channelNames(spec: Pick<AlertsSpec, 'webhooks' | 'email'>): string[] {
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
