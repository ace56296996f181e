/**
 * The review console in a real browser (Debian's Chromium, driven by playwright-core) against a
 * real stack: the console runs as its own process (console/main.ts, started by the local stack
 * as `npm start` starts it) on the test's Temporal and MLflow. One model needs approval from
 * `ana` or the group `ops` (bo); `eve` has a token but is not a reviewer of it. Screenshots go to
 * a temp folder, printed as a test diagnostic.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { retrainWorkflowId } from '../../core/messages.ts';
import { weatherData } from '../../stack/demo.ts';
import { tempDir } from '../helpers/services.ts';
import { eventually, postToModel, registerSeeded, startStack, testSpec, type Stack } from '../helpers/stack.ts';

const TOKENS = { ana: 'ana-token-0123456789', bo: 'bo-token-0123456789a', eve: 'eve-token-0123456789' };
const shots = tempDir('perennial-console-shots-');
const spec = testSpec({
  approval: { required: true, timeout: '10m', onTimeout: 'reject', reviewers: ['ana', 'group:ops'], groups: { ops: ['bo'] } },
  monitoring: { interval: '1s', drift: { minRows: 50 } },
});
const retrain = retrainWorkflowId(spec.name, 1);

let stack: Stack;
let browser: Browser;
let base: string;

before(async () => {
  const reviewersFile = join(tempDir('perennial-console-'), 'reviewers.yaml');
  writeFileSync(
    reviewersFile,
    `reviewers:\n${Object.entries(TOKENS)
      .map(([name, token]) => `  ${name}: ${token}\n`)
      .join('')}`,
    { mode: 0o600 },
  );
  [stack, browser] = await Promise.all([
    startStack({ console: { port: 0, reviewersFile, temporalUi: 'http://127.0.0.1:8233' } }),
    chromium.launch({ executablePath: '/usr/bin/chromium' }),
  ]);
  base = stack.consoleUrl!;
  await registerSeeded(stack, spec);
});
after(async () => {
  await browser?.close();
});

async function signIn(reviewer: string, token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=%2F$/, 'an anonymous visitor is sent to sign in');
  await page.fill('input[name=reviewer]', reviewer);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  return page;
}

const shoot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const stageOf = async () => (await stack.client.retrainStatus(retrain)).stage;

test('a wrong token is refused at sign-in, and nothing is shown without a session', async () => {
  const page = await signIn('ana', 'not-anas-token-at-all');
  assert.equal(await page.textContent('#refusal'), 'Sign-in refused: unknown reviewer or wrong token.');
  await page.goto(`${base}/models/${spec.name}`);
  assert.match(page.url(), /\/login\?next=/);
  await page.close();
});

test('the fleet page lists the model with its pending approval', { timeout: 180_000 }, async (t) => {
  await eventually('retrain #1 awaiting approval', async () => ((await stageOf()) === 'awaiting-approval' ? true : undefined), 150_000);
  const page = await signIn('eve', TOKENS.eve);
  assert.equal(await page.textContent('#reviewer'), 'eve');
  const row = page.locator(`tr[data-model="${spec.name}"]`);
  // Visibility is eventually consistent: the retrain's stage reaches the listing a moment later.
  await eventually('the fleet row to show the pending approval', async () => {
    await page.reload();
    return (await row.count()) && (await row.locator('td').nth(5).innerText()).includes('1 review') ? true : undefined;
  });
  assert.match(await row.innerText(), /retrain: awaiting-approval/);
  await shoot(page, 'fleet');
  t.diagnostic(`screenshots in ${shots}`);
  await page.close();
});

test('the evidence is shown; a reviewer the spec does not name is refused and the retrain still waits', async () => {
  const page = await signIn('eve', TOKENS.eve);
  await page.goto(`${base}/models/${spec.name}`);
  assert.match((await page.textContent('#trigger')) ?? '', /initial training/);
  assert.match((await page.textContent('#holdout')) ?? '', /challenger beats the champion/);
  assert.equal(await page.locator('#sweep tr').count(), 1 + 2, 'a row per trial of the sweep');
  assert.match((await page.textContent('#plan')) ?? '', /no champion yet/);
  assert.match((await page.textContent('#not-allowed')) ?? '', /eve is not an allowed reviewer/);
  await shoot(page, 'evidence-eve');

  // A forged form without the session's CSRF token is refused before anything else.
  const forged = await page.request.post(`${base}/models/${spec.name}/review`, {
    form: { decision: 'approve', retrain, csrf: 'guessed' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /expired or came from another site: nothing was sent/);

  await page.click('button.approve');
  assert.match(
    (await page.textContent('#refusal')) ?? '',
    /^eve may not review t-[0-9a-f]+: allowed reviewers are ana, group:ops \(bo\)\. Nothing was sent\.$/,
  );
  await shoot(page, 'refused-eve');
  assert.equal(await stageOf(), 'awaiting-approval');
  const { decisions } = await stack.client.retrainStatus(retrain);
  assert.ok(!decisions.some((d) => /eve/.test(d.what)), JSON.stringify(decisions));
  await page.close();
});

test('Approve by a member of an allowed group promotes the challenger', { timeout: 120_000 }, async () => {
  assert.equal((await stack.client.status(spec.name)).championVersion, undefined);
  const page = await signIn('bo', TOKENS.bo);
  await page.goto(`${base}/models/${spec.name}`);
  assert.equal(await page.locator('#not-allowed').count(), 0);
  await page.fill('textarea[name=comment]', 'holdout and sweep look right');
  await page.click('button.approve');
  assert.equal(await page.textContent('#done'), 'approved by bo');
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined));
  const { stage, decisions } = await stack.client.retrainStatus(retrain);
  assert.equal(stage, 'promoted');
  assert.ok(
    decisions.some((d) => d.what === 'approved by bo' && d.reasons[0] === 'holdout and sweep look right'),
    JSON.stringify(decisions),
  );
  await page.close();
});

test('the model page shows the champion, monitoring charts and the drift report', { timeout: 120_000 }, async (t) => {
  // New York's climate against a champion of Seattle's: input drift, and labels for accuracy.
  const newYork = weatherData()
    .traffic.filter((r) => r.location === 'New York')
    .slice(0, 120);
  const rows = newYork.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  const { predictions } = (await postToModel(stack, spec.name, 'predict', { rows })) as { predictions: Array<{ id: string }> };
  await postToModel(stack, spec.name, 'feedback', {
    feedback: predictions.slice(0, 60).map((p, i) => ({ predictionId: p.id, label: newYork[i].weather })),
  });
  await eventually('a monitoring cycle with labelled feedback', async () => {
    const summary = (await stack.client.status(spec.name)).lastSummary as { performance?: { n: number } } | undefined;
    return (summary?.performance?.n ?? 0) > 0 ? true : undefined;
  });

  const page = await signIn('ana', TOKENS.ana);
  const started = performance.now();
  await page.goto(`${base}/models/${spec.name}`);
  const cold = performance.now() - started;
  await page.reload();
  t.diagnostic(`model page with charts and reports: ${Math.round(cold)} ms, again ${Math.round(performance.now() - started - cold)} ms`);
  assert.match((await page.textContent('#champion')) ?? '', /v1/);
  const quality = page.locator('figure.chart[aria-label="Quality by monitoring cycle"] svg');
  assert.equal(await quality.count(), 1);
  assert.ok((await quality.locator('path').count()) > 5, 'the chart has marks');
  assert.match(await quality.innerHTML(), /accuracy/);
  assert.match((await page.textContent('#timeline')) ?? '', /retrain #1: promoted/);
  assert.match((await page.textContent('#drift-reports')) ?? '', /v1 cycle \d+/);
  const report = await page.request.get(`${base}${await page.locator('#drift-reports a').first().getAttribute('href')}`);
  assert.equal(report.status(), 200);
  assert.match(report.headers()['content-security-policy'], /^sandbox/);
  assert.match(await report.text(), /monitoring cycle \d+/);
  // The latest report is embedded on the page too, in a sandbox.
  assert.match((await page.frameLocator('iframe[title="latest drift report"]').locator('h1').textContent()) ?? '', /monitoring cycle \d+/);
  assert.match(
    (await page.locator('#summary a', { hasText: 'workflow in Temporal' }).getAttribute('href')) ?? '',
    /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/model%2Ft-[0-9a-f]+\/[0-9a-f-]{36}\/history$/,
  );
  await shoot(page, 'model');
  // A full-page shot leaves an out-of-view frame blank: the embedded report gets its own.
  await page.locator('iframe').screenshot({ path: join(shots, 'drift-report.png') });
  await page.close();
});
