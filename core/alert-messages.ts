/**
 * The messages an alert becomes: Slack-compatible webhook JSON (Block Kit, within Slack's
 * documented limits, mrkdwn escaped) and an email (subject, text and HTML). Pure; the activity
 * in activities/alerts.ts sends them.
 */
import { KIND_LABELS, type Alert } from './alerts.ts';

/** Slack's documented Block Kit limits. */
export const SLACK_LIMITS = { header: 150, sectionText: 3000, fields: 10, fieldText: 2000, fallbackText: 3000 } as const;

/** Cuts to at most `max` UTF-16 units, ending with "…", never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Slack mrkdwn treats &, < and > as control characters (links, mentions). */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped, then truncated without cutting an entity like "&amp;" in half. */
function mrkdwn(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  return `${truncate(escaped, max)
    .slice(0, -1)
    .replace(/&[a-z]*$/, '')}…`;
}

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: Mrkdwn }
  | { type: 'section'; fields: Mrkdwn[] }
  | { type: 'context'; elements: Mrkdwn[] };

export interface SlackPayload {
  /** Shown in notifications and by receivers that ignore blocks. */
  text: string;
  blocks: SlackBlock[];
}

function fieldEntries(alert: Alert): Array<[string, string]> {
  return Object.entries(alert.fields ?? {}).map(([key, value]) => [key, String(value)]);
}

function slackFields(alert: Alert): Mrkdwn[] {
  let entries = fieldEntries(alert);
  if (entries.length > SLACK_LIMITS.fields) {
    const hidden = entries.length - (SLACK_LIMITS.fields - 1);
    entries = [...entries.slice(0, SLACK_LIMITS.fields - 1), ['…', `${hidden} more`]];
  }
  return entries.map(([key, value]) => ({ type: 'mrkdwn', text: mrkdwn(`*${key}*\n${value}`, SLACK_LIMITS.fieldText) }));
}

export function slackPayload(alert: Alert): SlackPayload {
  const link = alert.link ? `\n<${alert.link}|Open>` : '';
  // The link goes after truncation so a long text can't cut it.
  const body = mrkdwn(alert.text || alert.title, SLACK_LIMITS.sectionText - link.length) + link;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(alert.title, SLACK_LIMITS.header), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: body } },
  ];
  const fields = slackFields(alert);
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: mrkdwn(`Perennial · ${KIND_LABELS[alert.kind]} · model ${alert.model}`, 300) }],
  });
  return { text: truncate(`[${alert.model}] ${alert.title}: ${alert.text}`, SLACK_LIMITS.fallbackText), blocks };
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function emailMessage(alert: Alert): EmailMessage {
  // A newline in a subject would end the header: fold all whitespace runs into one space.
  const subject = truncate(`[Perennial] ${alert.model}: ${alert.title}`.replace(/\s+/g, ' '), 200);
  const fields = fieldEntries(alert);
  const footer = `Perennial · ${KIND_LABELS[alert.kind]} · model ${alert.model}`;

  const text = [alert.title, alert.text, fields.map(([key, value]) => `${key}: ${value}`).join('\n'), alert.link ?? '', `-- \n${footer}`]
    .filter((part) => part !== '')
    .join('\n\n');

  const rows = fields.map(([key, value]) => `<tr><th align="left">${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join('');
  const html = [
    `<h2>${escapeHtml(alert.title)}</h2>`,
    alert.text ? `<p>${escapeHtml(alert.text).replace(/\n/g, '<br>')}</p>` : '',
    rows ? `<table>${rows}</table>` : '',
    alert.link ? `<p><a href="${escapeHtml(alert.link)}">${escapeHtml(alert.link)}</a></p>` : '',
    `<p style="color:#888">${escapeHtml(footer)}</p>`,
  ]
    .filter((part) => part !== '')
    .join('\n');

  return { subject, text, html };
}
