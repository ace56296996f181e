/**
 * A codec server (Temporal's remote codec protocol): POST /encode and POST /decode take
 * `{"payloads": [{"metadata": {...}, "data": "..."}]}` with base64 values and answer the same
 * shape, run through the payload codec. The Temporal UI (Settings → Codec Server) calls it from
 * the browser, hence CORS for the UI's origin; the CLI with `--codec-endpoint`.
 *
 * Anyone who reaches /decode reads every payload, so bind it to localhost or put it behind
 * auth: with a token configured, requests need `Authorization: Bearer <token>`
 * (`temporal --codec-auth "Bearer <token>"`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser, e.g. the Temporal UI's "http://localhost:8233". */
  allowedOrigins: string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
}

/** Histories can carry big payloads (datasets summaries, sweep plans); beyond this, refuse. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The JSON form of a payload: proto3's JSON mapping, bytes as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export function createCodecServer(options: CodecServerOptions): Server {
  const tokenDigest = options.token ? sha256(`Bearer ${options.token}`) : undefined;

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: (err as Error).message });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    // The browser's preflight carries no credentials; the request that follows does.
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (!operation) throw new HttpError(404, `no such endpoint ${path}: POST /encode or /decode`);
    if (req.method !== 'POST') throw new HttpError(405, `${path} takes POST`);
    if (tokenDigest && !timingSafeEqual(sha256(req.headers.authorization ?? ''), tokenDigest)) {
      throw new HttpError(401, 'missing or wrong Authorization header: send "Bearer <token>"');
    }
    const payloads = parsePayloads(await readBody(req));
    const result = await (operation === 'encode' ? options.codec.encode(payloads) : options.codec.decode(payloads)).catch((err: Error) => {
      throw new HttpError(400, err.message);
    });
    send(res, 200, { payloads: result.map(toJson) });
  }
}

export async function startCodecServer(
  options: CodecServerOptions & { port?: number; host?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createCodecServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parsePayloads(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'the body is not JSON: send {"payloads": [...]}');
  }
  const payloads = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new HttpError(400, 'payloads: must be an array of {metadata, data}');
  return payloads.map((p: JsonPayload, i) => {
    if (typeof p !== 'object' || p === null) throw new HttpError(400, `payloads.${i}: must be an object {metadata, data}`);
    return {
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, base64(v, `payloads.${i}.metadata.${k}`)])),
      data: base64(p.data ?? '', `payloads.${i}.data`),
    };
  });
}

function base64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new HttpError(400, `${field}: must be a base64 string`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
