/**
 * The demo's production traffic: Seattle 2014, then New York, replayed against the model
 * server as prediction requests, with the true label sent as feedback a little later
 * (delayed ground truth). Optionally approves challengers itself, so nobody has to.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import type { PerennialClient } from '../client/client.ts';
import { readRows, whereEquals, type Row } from '../client/dataset.ts';
import type { ModelSpec } from '../core/spec.ts';
import type { Decision } from '../core/messages.ts';

// The package exports only its JS entry, so find its folder from that and read the file beside it.
export const WEATHER_CSV = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data', 'weather.csv');

const byYear = (rows: Row[], ...years: string[]) => rows.filter((r) => years.includes(String(r.date).slice(0, 4)));

export function weatherData() {
  const rows = readRows(WEATHER_CSV);
  const seattle = whereEquals(rows, { location: 'Seattle' });
  return {
    /** What the first champion learns from. */
    seed: byYear(seattle, '2012', '2013'),
    /** Production: more of the same climate, then a different one. */
    traffic: [...byYear(seattle, '2014'), ...whereEquals(rows, { location: 'New York' })],
  };
}

export interface DemoOptions {
  client: PerennialClient;
  spec: ModelSpec;
  servingUrl: string;
  traffic: Row[];
  autoApprove: boolean;
  /** Rows per second sent to the model server. */
  rate?: number;
  /** Feedback for a prediction is sent this many rows later. */
  feedbackLag?: number;
  deadlineMs?: number;
  log?: (line: string) => void;
  /** The part of production a row comes from, for the progress lines and live accuracy (default: its location). */
  segment?: (row: Row) => string;
}

export interface DemoResult {
  championVersion: string;
  trigger: string;
  predictions: number;
  /** Live accuracy of the served predictions, per segment of the traffic and model version, in order of appearance. */
  accuracy: LiveAccuracy[];
}

export interface LiveAccuracy {
  segment: string;
  version: string;
  n: number;
  accuracy: number;
}

/**
 * Sends traffic until a retrain whose trigger includes drift has promoted a new champion
 * (version 2 or later), then resolves; rejects at the deadline.
 */
export async function runDemoTraffic(options: DemoOptions): Promise<DemoResult> {
  const { client, spec, servingUrl, traffic, log = console.log, segment = (row: Row) => String(row.location) } = options;
  const rate = options.rate ?? 20;
  const lag = options.feedbackLag ?? 40;
  const deadline = Date.now() + (options.deadlineMs ?? 15 * 60_000);
  const features = spec.features.map((f) => f.name);
  const awaitingFeedback: Array<{ id: string; label: string }> = [];
  const approved = new Set<string>();
  let sent = 0;
  const startedAt = new Date().toISOString();
  let seenHistory = 0;
  let retrain = { id: '', seen: 0 };
  const tally = new Map<string, LiveAccuracy & { right: number }>();
  const score = (row: Row, served: { version: string; label: string }) => {
    const key = `${segment(row)}\u0000${served.version}`;
    const t = tally.get(key) ?? { segment: segment(row), version: served.version, n: 0, accuracy: 0, right: 0 };
    t.n += 1;
    if (served.label === String(row[spec.label.name])) t.right += 1;
    t.accuracy = t.right / t.n;
    tally.set(key, t);
  };
  const accuracy = () => [...tally.values()].map(({ segment, version, n, accuracy }) => ({ segment, version, n, accuracy }));

  const post = async (path: string, body: unknown) => {
    const res = await request(`${servingUrl}/v1/models/${spec.name}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${await res.body.text()}`);
    return res.body.json() as Promise<{ predictions?: Array<{ id: string; version: string; label: string }> }>;
  };

  const show = (who: string, d: Decision) =>
    log(`  ${d.at.slice(11, 19)} ${who}: ${d.what}${d.reasons.map((r) => `\n      ${r}`).join('')}`);

  /** Prints what the lifecycle and its retrain decided since last time, and approves a waiting challenger. */
  const watch = async (doing: string) => {
    const status = await client.status(spec.name);
    status.history.slice(seenHistory).forEach((d) => show('lifecycle', d));
    seenHistory = status.history.length;
    if (status.activeRetrain && status.activeRetrain.workflowId !== retrain.id) retrain = { id: status.activeRetrain.workflowId, seen: 0 };
    if (retrain.id) {
      // Queried even after it closed, so its last decisions are shown too.
      const { stage, decisions } = await client.retrainStatus(retrain.id);
      decisions.slice(retrain.seen).forEach((d) => show(retrain.id, d));
      retrain.seen = decisions.length;
      if (stage === 'awaiting-approval' && options.autoApprove && !approved.has(retrain.id)) {
        approved.add(retrain.id);
        log(
          `auto-approve: ${await client.review(spec.name, 'approve', { reviewer: 'demo-auto-approver', comment: 'npm start -- --demo --auto-approve' })}`,
        );
      }
    }
    log(`${doing}; champion ${status.championVersion ? `v${status.championVersion}` : 'none yet'}`);
    return status;
  };
  const pastDeadline = () => {
    if (Date.now() > deadline) throw new Error('the demo did not see a drift-triggered promotion before its deadline');
  };

  // No traffic before there is a model to serve it.
  while (!(await watch('waiting for the first champion')).championVersion) {
    pastDeadline();
    await new Promise((r) => setTimeout(r, 2000));
  }

  let lastWatch = Date.now();
  for (let i = 0; ; i = (i + 1) % traffic.length) {
    pastDeadline();
    const row = traffic[i];
    const { predictions } = await post('predict', { rows: [Object.fromEntries(features.map((f) => [f, row[f]]))] });
    awaitingFeedback.push({ id: predictions![0].id, label: String(row[spec.label.name]) });
    score(row, predictions![0]);
    sent += 1;
    // Ground truth arrives `lag` predictions later, as labels do in production.
    if (awaitingFeedback.length > lag) {
      const { id, label } = awaitingFeedback.shift()!;
      await post('feedback', { predictionId: id, label });
    }
    await new Promise((r) => setTimeout(r, 1000 / rate));

    if (Date.now() - lastWatch < 2000) continue;
    lastWatch = Date.now();
    const status = await watch(`traffic: ${sent} predictions, now ${segment(row)}${row.date === undefined ? '' : ` ${String(row.date)}`}`);
    const trigger = driftPromotion(status.history, startedAt);
    if (trigger && Number(status.championVersion) >= 2)
      return { championVersion: status.championVersion!, trigger, predictions: sent, accuracy: accuracy() };
  }
}

/** The trigger of a promoted retrain that drift started (at or after `since`, ISO time), if there is one. */
export function driftPromotion(history: Decision[], since = ''): string | undefined {
  const promoted = history.find((h) => h.at >= since && /^retrain #\d+: promoted$/.test(h.what) && h.reasons[0]?.includes('drift'));
  return promoted?.reasons[0].replace(/^trigger: /, '');
}
