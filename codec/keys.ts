/**
 * The payload codec's keys, from the environment. One key encrypts; older ones stay listed so
 * histories written before a rotation still decrypt.
 *
 *   PERENNIAL_CODEC_KEY            32 random bytes in base64 (`openssl rand -base64 32`): encrypts and decrypts
 *   PERENNIAL_CODEC_KEY_ID         optional name of that key, stored with every payload; defaults to a fingerprint
 *   PERENNIAL_CODEC_PREVIOUS_KEYS  optional, comma-separated, "id=base64" or just base64: decrypt only
 */
import { createHash } from 'node:crypto';

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface CodecKeys {
  /** Encrypts every new payload. */
  current: CodecKey;
  /** Every key that may decrypt, the current one included, by id. */
  byId: Map<string, CodecKey>;
}

/** A codec setting that cannot work; the message names the variable and the fix. */
export class CodecConfigError extends Error {
  override name = 'CodecConfigError';
}

const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id a key gets when none is given: derived from the key, so every process that has the
 * key agrees on it, and revealing nothing useful (a hash of 256 random bits).
 */
export function fingerprint(key: Buffer): string {
  return createHash('sha256').update('perennial-codec-key-id').update(key).digest('hex').slice(0, 16);
}

function decodeKey(base64: string, variable: string): Buffer {
  const trimmed = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new CodecConfigError(`${variable}: not base64; generate a key with: openssl rand -base64 32`);
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new CodecConfigError(
      `${variable}: decodes to ${key.length} bytes, an AES-256 key is ${KEY_BYTES}; generate one with: openssl rand -base64 32`,
    );
  }
  return key;
}

function keyId(id: string, variable: string): string {
  if (!KEY_ID.test(id)) throw new CodecConfigError(`${variable}: key id "${id}" must be 1 to 64 letters, digits, ".", "_" or "-"`);
  return id;
}

/** The configured keys, or undefined when PERENNIAL_CODEC_KEY is unset (payloads stay plain). */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const base64 = env.PERENNIAL_CODEC_KEY;
  if (!base64) {
    if (env.PERENNIAL_CODEC_PREVIOUS_KEYS || env.PERENNIAL_CODEC_KEY_ID) {
      throw new CodecConfigError(
        'PERENNIAL_CODEC_PREVIOUS_KEYS and PERENNIAL_CODEC_KEY_ID need PERENNIAL_CODEC_KEY, the key that encrypts new payloads',
      );
    }
    return undefined;
  }
  const key = decodeKey(base64, 'PERENNIAL_CODEC_KEY');
  const current = { id: env.PERENNIAL_CODEC_KEY_ID ? keyId(env.PERENNIAL_CODEC_KEY_ID, 'PERENNIAL_CODEC_KEY_ID') : fingerprint(key), key };
  const byId = new Map([[current.id, current]]);
  const previous = (env.PERENNIAL_CODEC_PREVIOUS_KEYS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const [i, entry] of previous.entries()) {
    const variable = `PERENNIAL_CODEC_PREVIOUS_KEYS (entry ${i + 1})`;
    const eq = entry.indexOf('=', 1);
    // A key id never ends in "=", base64 padding does: "id=KEY" has an "=" before the last 2 characters.
    const named = eq > 0 && eq < entry.replace(/=+$/, '').length;
    const old = decodeKey(named ? entry.slice(eq + 1) : entry, variable);
    const id = named ? keyId(entry.slice(0, eq), variable) : fingerprint(old);
    const known = byId.get(id);
    if (known && !known.key.equals(old)) throw new CodecConfigError(`${variable}: key id "${id}" is already used by another key`);
    byId.set(id, { id, key: old });
  }
  return { current, byId };
}
