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
}

export interface DemoResult {
  championVersion: string;
  trigger: string;
  predictions: number;
}

/**
 * Sends traffic until a retrain whose trigger includes drift has promoted a new champion
 * (version 2 or later), then resolves; rejects at the deadline.
 */
export async function runDemoTraffic(options: DemoOptions): Promise<DemoResult> {
  const { client, spec, servingUrl, traffic, log = console.log } = options;
  const rate = options.rate ?? 20;
  const lag = options.feedbackLag ?? 40;
  const deadline = Date.now() + (options.deadlineMs ?? 15 * 60_000);
  const features = spec.features.map((f) => f.name);
  const awaitingFeedback: Array<{ id: string; label: string }> = [];
  const approved = new Set<string>();
  let sent = 0;
  let lastReport = 0;
  let lastHistory = 0;

  for (let i = 0; Date.now() < deadline; i = (i + 1) % traffic.length) {
    const row = traffic[i];
    const body = { rows: [Object.fromEntries(features.map((f) => [f, row[f]]))] };
    const res = await request(`${servingUrl}/v1/models/${spec.name}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.statusCode !== 200) throw new Error(`predict answered ${res.statusCode}: ${await res.body.text()}`);
    const { predictions } = (await res.body.json()) as { predictions: Array<{ id: string }> };
    awaitingFeedback.push({ id: predictions[0].id, label: String(row[spec.label.name]) });
    sent += 1;
    if (awaitingFeedback.length > lag) {
      const { id, label } = awaitingFeedback.shift()!;
      const fb = await request(`${servingUrl}/v1/models/${spec.name}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ predictionId: id, label }),
      });
      await fb.body.dump();
    }
    await new Promise((r) => setTimeout(r, 1000 / rate));

    if (Date.now() - lastReport < 2000) continue;
    lastReport = Date.now();
    const status = await client.status(spec.name);
    for (const event of status.history.slice(lastHistory)) log(`  ${event.at.slice(11, 19)} ${event.what}${event.reasons.length ? `: ${event.reasons.join('; ')}` : ''}`);
    lastHistory = status.history.length;
    const place = `${String(row.location)} ${String(row.date)}`;
    log(`traffic: ${sent} predictions (now replaying ${place}); champion v${status.championVersion ?? '-'}${status.activeRetrain ? `; retrain running: ${status.activeRetrain.trigger}` : ''}`);

    if (status.activeRetrain && options.autoApprove && !approved.has(status.activeRetrain.workflowId)) {
      const retrain = await client.retrainStatus(status.activeRetrain.workflowId);
      if (retrain.stage === 'awaiting-approval') {
        const answer = await client.review(spec.name, 'approve', { reviewer: 'demo-auto-approver', comment: 'approved by npm start --demo --auto-approve' });
        approved.add(status.activeRetrain.workflowId);
        log(`auto-approve: ${answer}`);
      }
    }
    const trigger = driftPromotion(status.history);
    if (trigger && Number(status.championVersion) >= 2) {
      return { championVersion: status.championVersion!, trigger, predictions: sent };
    }
  }
  throw new Error('the demo did not see a drift-triggered promotion before its deadline');
}

/** The trigger of a promoted retrain that drift started, if there is one. */
export function driftPromotion(history: Decision[]): string | undefined {
  const promoted = history.find((h) => /^retrain #\d+: promoted$/.test(h.what) && h.reasons[0]?.includes('drift'));
  return promoted?.reasons[0];
}
