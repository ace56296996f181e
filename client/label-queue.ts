/**
 * `perennial label-queue`: the model server's `GET /v1/models/:model/label-queue` (admin token),
 * the served predictions most worth labelling, as a table to work through (or the server's JSON).
 * Asking records them as offered on the server, so the feedback sent for them counts as the
 * queue's. The server checks the query (limit, strategy, since) and names what it refuses.
 */
import { request } from 'undici';
import { serverMessage } from './export.ts';

export type LabelQueueStrategy = 'confidence' | 'disagreement';

export interface LabelQueueRequest {
  servingUrl: string;
  adminToken: string;
  model: string;
  /** Sent as given: the server says what it accepts. */
  limit?: string;
  strategy?: LabelQueueStrategy;
  since?: string;
}

/** A classifier's answer (label, confidence, probabilities) or a regression model's (value). */
interface Answer {
  label?: string;
  confidence?: number | null;
  probabilities?: Record<string, number>;
  value?: number;
}

export interface LabelQueueItem extends Answer {
  predictionId: string;
  seq: number;
  createdAt: string;
  version: string;
  role: string;
  features: Record<string, unknown>;
  other?: Answer & { predictionId: string; version: string; role: string };
  disagreement?: number;
}

export interface LabelQueue {
  model: string;
  strategy: LabelQueueStrategy;
  items: LabelQueueItem[];
  summary: { offered: number; labelled: number };
}

export async function fetchLabelQueue(req: LabelQueueRequest): Promise<LabelQueue> {
  const url = new URL(`${req.servingUrl.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(req.model)}/label-queue`);
  for (const [name, value] of Object.entries({ limit: req.limit, strategy: req.strategy, since: req.since }))
    if (value !== undefined) url.searchParams.set(name, value);
  const response = await request(url, { headers: { authorization: `Bearer ${req.adminToken}` } }).catch((err: Error) => {
    throw new Error(`cannot reach the model server at ${req.servingUrl}: ${err.message}`, { cause: err });
  });
  const text = await response.body.text();
  if (response.statusCode !== 200)
    throw new Error(`the model server refused the label queue (HTTP ${response.statusCode}): ${serverMessage(text)}`);
  return JSON.parse(text) as LabelQueue;
}

/** One line per prediction, in the queue's order, and what the queue has offered so far. */
export function labelQueueTable(queue: LabelQueue): string {
  const { model, strategy, items, summary } = queue;
  const tally = `the queue has offered ${summary.offered} predictions of ${model} so far; ${summary.labelled} of them have feedback`;
  if (!items.length) {
    const why =
      strategy === 'disagreement'
        ? 'no unlabelled prediction that a second model (a shadow, or the other of champion and canary) answered too'
        : 'nothing unlabelled';
    return `${model}: ${why}\n${tally}`;
  }
  const head = ['prediction id', 'version', 'predicted', strategy === 'confidence' ? 'confidence' : 'other model', 'made at', 'features'];
  if (strategy === 'disagreement') head.splice(4, 0, 'disagreement');
  const rows = items.map((item) => {
    const row = [item.predictionId, `${item.version} (${item.role})`, said(item)];
    if (strategy === 'confidence') row.push(fixed(item.confidence));
    else row.push(`${item.other ? `${said(item.other)} (v${item.other.version} ${item.other.role})` : ''}`, fixed(item.disagreement));
    row.push(item.createdAt.replace('T', ' ').slice(0, 19), features(item.features));
    return row;
  });
  const feedback = `send labels: POST /v1/models/${model}/feedback {"predictionId": "...", "label": ...}`;
  return [
    ...aligned([head, ...rows]),
    '',
    `${items.length} predictions of ${model} worth labelling (${strategy}); ${tally}`,
    feedback,
  ].join('\n');
}

function said(answer: Answer): string {
  return answer.value !== undefined ? String(answer.value) : (answer.label ?? '');
}

function fixed(n: number | null | undefined): string {
  return typeof n === 'number' ? n.toFixed(3) : '';
}

function features(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value === null ? '' : typeof value === 'string' ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}

/** Columns padded to their widest cell; the last column is left as it is. */
function aligned(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
}
