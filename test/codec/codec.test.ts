/**
 * The payload codec end to end: a real lifecycle on the real Temporal dev server, with a client
 * and worker that encrypt, sends a real alert to a webhook whose URL (with its token) only the
 * worker's environment holds. Its history read raw (the Temporal CLI without a codec) is
 * ciphertext; read through the codec server over HTTP (the CLI's --codec-endpoint, and a plain
 * POST /decode) it is the spec again, and the webhook URL appears in neither.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { temporalConfig } from '../../config/environment.ts';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../codec/aes-gcm.ts';
import { codecKeysFromEnv } from '../../codec/keys.ts';
import { startCodecServer } from '../../codec/server.ts';
import { lifecycleWorkflowId } from '../../core/messages.ts';
import { startLocalStack, type LocalStack } from '../../stack/local.ts';
import { VENV_BIN } from '../../stack/services.ts';
import { mlflowUrl, onTeardown, tempDir, temporalAddress } from '../helpers/services.ts';
import { eventually, seedRecords, testSpec } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

const TOKEN = `T0CODEC/B0CODEC/${randomBytes(12).toString('hex')}`;
const HOOK_ENV = 'PERENNIAL_CODEC_TEST_HOOK_URL';
const CODEC_AUTH = randomUUID();
const UI_ORIGIN = 'http://localhost:8233';
const codec = new AesGcmCodec(
  codecKeysFromEnv({ PERENNIAL_CODEC_KEY: randomBytes(32).toString('base64'), PERENNIAL_CODEC_KEY_ID: 'test-key' })!,
);

let address: string;
let stack: LocalStack;
let codecServer: Awaited<ReturnType<typeof startCodecServer>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;

before(async () => {
  const [temporal, tracking] = await Promise.all([temporalAddress(), mlflowUrl()]);
  address = temporal;
  hook = await startWebhookReceiver();
  // Only the worker's environment knows where the webhook is, token included.
  process.env[HOOK_ENV] = `${hook.url}/services/${TOKEN}`;
  stack = await startLocalStack({
    temporal: { ...temporalConfig({}), address, codec },
    mlflowUrl: tracking,
    dataDir: tempDir('perennial-codec-'),
    adminToken: 'codec-test-admin',
    servingPort: 0,
    taskQueue: `codec-${randomUUID()}`,
  });
  onTeardown(() => stack.stop());
  codecServer = await startCodecServer({ codec, allowedOrigins: [UI_ORIGIN], token: CODEC_AUTH });
  onTeardown(() => codecServer.close());
});
after(() => delete process.env[HOOK_ENV]);

/** `temporal workflow show` as an operator runs it, JSON out. */
async function showHistory(workflowId: string, ...extra: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    join(VENV_BIN, 'temporal'),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json', ...extra],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/**
 * Every payload in a JSON history, by where it is, except two kinds no codec sees: search
 * attributes (the server indexes them) and the markers sdk-core writes itself for patched()
 * (the patch's name). Both still go through the "no secret anywhere" check below.
 */
function payloadsOf(node: unknown, path = '', found: Array<JsonPayload & { path: string }> = []): Array<JsonPayload & { path: string }> {
  if (Array.isArray(node)) node.forEach((item, i) => payloadsOf(item, `${path}.${i}`, found));
  else if (node && typeof node === 'object') {
    const object = node as Record<string, unknown>;
    if (object.metadata && typeof object.metadata === 'object' && 'encoding' in object.metadata)
      found.push({ ...(object as JsonPayload), path });
    for (const [key, value] of Object.entries(object)) {
      if (key !== 'searchAttributes' && key !== 'markerRecordedEventAttributes') payloadsOf(value, `${path}.${key}`, found);
    }
  }
  return found;
}

const base64Text = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('utf8');

test('a lifecycle runs with encrypted payloads; its raw history is ciphertext; the codec server decodes it', async () => {
  const marker = `codec-marker-${randomUUID()}`;
  const spec = testSpec({ alerts: { webhooks: [{ urlEnv: HOOK_ENV, name: marker, kinds: ['retrain'] }] } });
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
  const workflowId = lifecycleWorkflowId(spec.name);
  onTeardown(() =>
    stack.client.temporal.workflow
      .getHandle(workflowId)
      .terminate('codec test done')
      .catch(() => undefined),
  );

  // The worker decrypted the spec, ran the lifecycle and sent the alert to the URL from its environment.
  const alert = await eventually('the retrain alert on the webhook', async () =>
    hook.received.find((m) => m.text.includes(spec.name) && /Retrain #1/.test(m.text)),
  );
  assert.match(alert.text, /initial training/);
  // The client decrypts query results.
  assert.equal((await stack.client.status(spec.name)).model, spec.name);

  // Raw, as anyone with access to the Temporal service sees it.
  const raw = await showHistory(workflowId);
  const payloads = payloadsOf(JSON.parse(raw));
  assert.ok(payloads.length >= 3, `expected the start input, activity inputs and results, found ${payloads.length} payloads`);
  for (const payload of payloads) {
    assert.equal(base64Text(payload.metadata?.encoding), ENCRYPTED_ENCODING, `${payload.path}: ${base64Text(payload.data).slice(0, 200)}`);
    assert.equal(base64Text(payload.metadata?.['encryption-key-id']), 'test-key');
  }
  const everythingRaw = raw + payloads.map((p) => base64Text(p.data)).join('\n');
  for (const secret of [marker, HOOK_ENV, TOKEN, 'hooks', 'precipitation'])
    assert.ok(!everythingRaw.includes(secret), `raw history shows "${secret}"`);

  // Through the codec server, as the Temporal CLI does with --codec-endpoint.
  const decoded = await showHistory(workflowId, '--codec-endpoint', codecServer.url, '--codec-auth', `Bearer ${CODEC_AUTH}`);
  const decodedPayloads = payloadsOf(JSON.parse(decoded));
  assert.ok(
    decodedPayloads.every((p) => base64Text(p.metadata?.encoding) !== ENCRYPTED_ENCODING),
    'the CLI shows no encrypted payload left',
  );
  const everythingDecoded = decoded + decodedPayloads.map((p) => base64Text(p.data)).join('\n');
  assert.ok(everythingDecoded.includes(marker), 'the decoded history holds the spec');
  assert.ok(everythingDecoded.includes(HOOK_ENV), 'the spec names the variable');
  assert.ok(!everythingDecoded.includes(TOKEN), 'but the webhook URL and its token are nowhere, not even decoded');

  // A plain POST /decode, as the Temporal UI sends it from the browser.
  const started = payloads.find((p) => p.path.includes('workflowExecutionStartedEventAttributes.input'));
  assert.ok(started, "the lifecycle's input is in its history");
  const response = await request(`${codecServer.url}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', authorization: `Bearer ${CODEC_AUTH}`, origin: UI_ORIGIN },
    body: JSON.stringify({ payloads: [{ metadata: started.metadata, data: started.data }] }),
  });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['access-control-allow-origin'], UI_ORIGIN);
  const body = (await response.body.json()) as { payloads: JsonPayload[] };
  assert.equal(base64Text(body.payloads[0].metadata?.encoding), 'json/plain');
  assert.equal(JSON.parse(base64Text(body.payloads[0].data)).spec.alerts.webhooks[0].name, marker);
});

test('the codec server: CORS preflight for the UI, bearer auth, encode/decode round trip, clear errors', async () => {
  const post = (path: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${CODEC_AUTH}` }) =>
    request(`${codecServer.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  const preflight = await request(`${codecServer.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace,authorization',
    },
  });
  await preflight.body.dump();
  assert.equal(preflight.statusCode, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], UI_ORIGIN);
  assert.match(String(preflight.headers['access-control-allow-headers']), /X-Namespace.*Authorization/);
  const stranger = await request(`${codecServer.url}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com' } });
  await stranger.body.dump();
  assert.equal(stranger.headers['access-control-allow-origin'], undefined);

  const plain = {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from('{"hello":"world"}').toString('base64'),
  };
  for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
    const refused = await post('/encode', JSON.stringify({ payloads: [plain] }), headers);
    assert.equal(refused.statusCode, 401);
    assert.match(((await refused.body.json()) as { error: string }).error, /missing or wrong Authorization header/);
  }

  const encoded = await post('/encode', JSON.stringify({ payloads: [plain] }));
  assert.equal(encoded.statusCode, 200);
  const {
    payloads: [cipher],
  } = (await encoded.body.json()) as { payloads: JsonPayload[] };
  assert.equal(base64Text(cipher.metadata?.encoding), ENCRYPTED_ENCODING);
  const decoded = await post('/decode', JSON.stringify({ payloads: [cipher] }));
  assert.deepEqual(((await decoded.body.json()) as { payloads: JsonPayload[] }).payloads, [plain]);

  const errors: Array<[string, string, number, RegExp]> = [
    ['/decode', 'not json', 400, /the body is not JSON/],
    ['/decode', '{"payload": []}', 400, /payloads: must be an array/],
    [
      '/decode',
      JSON.stringify({ payloads: [{ metadata: { encoding: 'b!!' } }] }),
      400,
      /payloads\.0\.metadata\.encoding: must be a base64 string/,
    ],
    [
      '/decode',
      JSON.stringify({
        payloads: [{ ...cipher, metadata: { ...cipher.metadata, 'encryption-key-id': Buffer.from('other').toString('base64') } }],
      }),
      400,
      /key id "other", which is not configured here/,
    ],
    ['/elsewhere', '{}', 404, /no such endpoint \/elsewhere: POST \/encode or \/decode/],
  ];
  for (const [path, body, status, message] of errors) {
    const response = await post(path, body);
    assert.equal(response.statusCode, status, `${path} ${body}`);
    assert.match(((await response.body.json()) as { error: string }).error, message);
  }
});
