/** The AES-256-GCM payload codec and its keys from the environment: pure, no services. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING, isEncrypted, PayloadDecryptionError } from '../../codec/aes-gcm.ts';
import { CodecConfigError, codecKeysFromEnv, fingerprint } from '../../codec/keys.ts';

const newKey = () => randomBytes(32).toString('base64');
const SECRET = { webhook: 'https://hooks.slack.com/services/T0/B0/supersecrettoken1234', n: 42 };
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

function codec(env: NodeJS.ProcessEnv): AesGcmCodec {
  const keys = codecKeysFromEnv(env);
  assert.ok(keys, 'expected keys');
  return new AesGcmCodec(keys);
}

test('payloads round-trip, and the encrypted form holds nothing of the original', async () => {
  const key = newKey();
  const c = codec({ PERENNIAL_CODEC_KEY: key, PERENNIAL_CODEC_KEY_ID: 'k1' });
  const originals = [plain(SECRET), plain(null), plain(new Uint8Array([1, 2, 3])), plain('')];
  const encrypted = await c.encode(originals);
  for (const payload of encrypted) {
    assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(payload.metadata?.['encryption-key-id']), 'k1');
    assert.doesNotMatch(Buffer.from(payload.data!).toString('latin1'), /supersecret|json\/plain|hooks/);
  }
  // A fresh IV each time: the same value never encrypts to the same bytes.
  const again = await c.encode([originals[0]]);
  assert.notDeepEqual(Buffer.from(again[0].data!), Buffer.from(encrypted[0].data!));

  const decoded = await c.decode(encrypted);
  assert.deepEqual(
    decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
    [SECRET, null, new Uint8Array([1, 2, 3]), ''],
  );
  assert.deepEqual(
    decoded.map((p) => text(p.metadata?.encoding)),
    originals.map((p) => text(p.metadata?.encoding)),
  );
});

test('plain payloads from before the codec decode unchanged', async () => {
  const c = codec({ PERENNIAL_CODEC_KEY: newKey() });
  const old = plain({ written: 'before encryption' });
  assert.equal(isEncrypted(old), false);
  assert.deepEqual(await c.decode([old]), [old]);
});

test('after a rotation the old key still decrypts, and a payload names the key it needs', async () => {
  const oldKey = newKey();
  const before = codec({ PERENNIAL_CODEC_KEY: oldKey });
  const [written] = await before.encode([plain(SECRET)]);
  assert.equal(text(written.metadata?.['encryption-key-id']), fingerprint(Buffer.from(oldKey, 'base64')));

  const rotated = codec({ PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: '2026-12', PERENNIAL_CODEC_PREVIOUS_KEYS: oldKey });
  assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([written]))[0]), SECRET);
  assert.equal(text((await rotated.encode([plain(1)]))[0].metadata?.['encryption-key-id']), '2026-12');

  const withoutOld = codec({ PERENNIAL_CODEC_KEY: newKey() });
  await assert.rejects(withoutOld.decode([written]), (err: Error) => {
    assert.ok(err instanceof PayloadDecryptionError);
    assert.match(
      err.message,
      /^payload encrypted with key id "[0-9a-f]{16}", which is not configured here \(PERENNIAL_CODEC_KEY or PERENNIAL_CODEC_PREVIOUS_KEYS\)$/,
    );
    return true;
  });
  // Named previous keys: "id=base64".
  const named = codec({ PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_PREVIOUS_KEYS: ` old=${oldKey} , ${newKey()}` });
  const [relabelled] = await codec({ PERENNIAL_CODEC_KEY: oldKey, PERENNIAL_CODEC_KEY_ID: 'old' }).encode([plain(7)]);
  assert.equal(defaultPayloadConverter.fromPayload((await named.decode([relabelled]))[0]), 7);
});

test('a wrong key under a known id, an altered payload or a swapped key id fail authentication', async () => {
  const c = codec({ PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: 'k' });
  const [payload] = await c.encode([plain(SECRET)]);
  const impostor = codec({ PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: 'k' });
  await assert.rejects(
    impostor.decode([payload]),
    /encrypted payload \(key id "k"\) failed authentication: the key with that id is a different key, or the payload was altered$/,
  );
  const altered = Buffer.from(payload.data!);
  altered[20] ^= 1;
  await assert.rejects(c.decode([{ ...payload, data: altered }]), /failed authentication/);
  await assert.rejects(c.decode([{ ...payload, data: altered.subarray(0, 10) }]), /is truncated/);
  // The key id is authenticated: relabelling a payload with another configured id fails too.
  const k = codecKeysFromEnv({ PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: 'k' })!;
  const both = new AesGcmCodec({
    current: k.current,
    byId: new Map([
      ['k', k.current],
      ['j', { id: 'j', key: k.current.key }],
    ]),
  });
  const [mine] = await both.encode([plain(SECRET)]);
  const relabelled = { ...mine, metadata: { ...mine.metadata, 'encryption-key-id': new TextEncoder().encode('j') } };
  await assert.rejects(both.decode([relabelled]), /key id "j"\) failed authentication/);
});

test('codec keys: off without PERENNIAL_CODEC_KEY, and every bad setting names its variable', () => {
  assert.equal(codecKeysFromEnv({}), undefined);
  const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ PERENNIAL_CODEC_KEY: 'not base64!' }, /^PERENNIAL_CODEC_KEY: not base64; generate a key with: openssl rand -base64 32$/],
    [
      { PERENNIAL_CODEC_KEY: randomBytes(16).toString('base64') },
      /^PERENNIAL_CODEC_KEY: decodes to 16 bytes, an AES-256 key is 32; generate one with: openssl rand -base64 32$/,
    ],
    [
      { PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: 'has space' },
      /^PERENNIAL_CODEC_KEY_ID: key id "has space" must be 1 to 64 letters/,
    ],
    [
      { PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_PREVIOUS_KEYS: `a=${newKey()},short=AAAA` },
      /^PERENNIAL_CODEC_PREVIOUS_KEYS \(entry 2\): decodes to 3 bytes/,
    ],
    [
      { PERENNIAL_CODEC_KEY: newKey(), PERENNIAL_CODEC_KEY_ID: 'a', PERENNIAL_CODEC_PREVIOUS_KEYS: `a=${newKey()}` },
      /entry 1\): key id "a" is already used by another key/,
    ],
    [{ PERENNIAL_CODEC_PREVIOUS_KEYS: newKey() }, /need PERENNIAL_CODEC_KEY, the key that encrypts new payloads/],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => codecKeysFromEnv(env),
      (err: Error) => err instanceof CodecConfigError && message.test(err.message),
    );
  }
});
