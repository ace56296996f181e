/**
 * The codec server process: `tsx codec/main.ts`. Keys as for the client and worker
 * (codec/keys.ts); PERENNIAL_CODEC_PORT (8888), PERENNIAL_CODEC_HOST (127.0.0.1),
 * PERENNIAL_CODEC_CORS_ORIGINS (comma-separated; the local Temporal UI by default) and
 * PERENNIAL_CODEC_TOKEN (optional bearer token).
 */
import { AesGcmCodec } from './aes-gcm.ts';
import { codecKeysFromEnv } from './keys.ts';
import { startCodecServer } from './server.ts';

const keys = codecKeysFromEnv();
if (!keys) {
  console.error('perennial codec server: set PERENNIAL_CODEC_KEY (32 bytes in base64, as for the worker and client)');
  process.exit(1);
}
const origins = (process.env.PERENNIAL_CODEC_CORS_ORIGINS ?? 'http://localhost:8233,http://127.0.0.1:8233').split(',').map((o) => o.trim()).filter(Boolean);
const server = await startCodecServer({
  codec: new AesGcmCodec(keys),
  allowedOrigins: origins,
  token: process.env.PERENNIAL_CODEC_TOKEN || undefined,
  port: Number(process.env.PERENNIAL_CODEC_PORT ?? 8888),
  host: process.env.PERENNIAL_CODEC_HOST ?? '127.0.0.1',
});
console.log(`perennial codec server on ${server.url} (key ${keys.current.id}; ${keys.byId.size} keys can decrypt; CORS for ${origins.join(', ') || 'no origin'})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
