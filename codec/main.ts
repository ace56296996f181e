/**
 * The codec server process: `tsx codec/main.ts`. Keys as for the client and worker
 * (codec/keys.ts); PERENNIAL_CODEC_PORT (8888), PERENNIAL_CODEC_HOST (127.0.0.1),
 * PERENNIAL_CODEC_CORS_ORIGINS (comma-separated; the local Temporal UI by default) and
 * PERENNIAL_CODEC_TOKEN (optional bearer token).
 */
import { AesGcmCodec } from './aes-gcm.ts';
import { CodecConfigError, codecKeysFromEnv, type CodecKeys } from './keys.ts';
import { startCodecServer } from './server.ts';

function fail(message: string): never {
  console.error(`perennial codec server: ${message}`);
  process.exit(1);
}

let keys: CodecKeys | undefined;
try {
  keys = codecKeysFromEnv();
} catch (err) {
  if (!(err instanceof CodecConfigError)) throw err;
  fail(err.message);
}
if (!keys) fail('set PERENNIAL_CODEC_KEY (32 bytes in base64, the same as for the worker and client)');
const origins = (process.env.PERENNIAL_CODEC_CORS_ORIGINS ?? 'http://localhost:8233,http://127.0.0.1:8233')
  .split(',')
  .map((o) => o.trim())
  .filter(Boolean);
const server = await startCodecServer({
  codec: new AesGcmCodec(keys),
  allowedOrigins: origins,
  token: process.env.PERENNIAL_CODEC_TOKEN || undefined,
  port: Number(process.env.PERENNIAL_CODEC_PORT ?? 8888),
  host: process.env.PERENNIAL_CODEC_HOST ?? '127.0.0.1',
});
console.log(
  `perennial codec server on ${server.url} (key ${keys.current.id}; ${keys.byId.size} keys can decrypt; CORS for ${origins.join(', ') || 'no origin'})`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
