/**
 * A Temporal payload codec that encrypts every payload with AES-256-GCM, so workflow inputs,
 * results, signals, queries, memos and activity arguments are ciphertext in the Temporal
 * service and its history. The client and the worker use it through their data converter; the
 * codec server (codec/server.ts) lets the Temporal UI and CLI show them decrypted.
 *
 * An encrypted payload: metadata `encoding: binary/encrypted` and `encryption-key-id`, data =
 * 12-byte IV | ciphertext | 16-byte tag. The plaintext is the original payload (its metadata
 * as JSON, then its data). The key id is authenticated too, so a payload can't be relabelled.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { CodecKey, CodecKeys } from './keys.ts';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** A payload that cannot be decrypted here; says which key it needs. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload, this.keys.current));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    // Payloads written before the codec was turned on stay readable.
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload, { id, key }: CodecKey): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key, iv).setAAD(aad(id));
    const ciphertext = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const known = this.keys.byId.get(id);
    if (!known) {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${id}", which is not configured here (PERENNIAL_CODEC_KEY or PERENNIAL_CODEC_PREVIOUS_KEYS)`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`encrypted payload (key id "${id}") is truncated`);
    const decipher = createDecipheriv(CIPHER, known.key, data.subarray(0, IV_BYTES)).setAAD(aad(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return deserialize(Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]));
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload (key id "${id}") failed authentication: the key with that id is a different key, or the payload was altered`,
      );
    }
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

function aad(keyId: string): Buffer {
  return Buffer.from(`perennial-codec-v1:${keyId}`);
}

/** 4-byte length of the metadata JSON (values base64), the JSON, then the data as is. */
function serialize(payload: Payload): Buffer {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  );
  const header = Buffer.from(JSON.stringify(metadata));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, payload.data ?? new Uint8Array()]);
}

function deserialize(plain: Buffer): Payload {
  const headerEnd = 4 + plain.readUInt32BE(0);
  const metadata = JSON.parse(plain.subarray(4, headerEnd).toString('utf8')) as Record<string, string>;
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: new Uint8Array(plain.subarray(headerEnd)),
  };
}
