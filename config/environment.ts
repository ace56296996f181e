/**
 * Where the services are. Embedded defaults match `npm start`; environment variables point
 * Perennial at an existing Temporal cluster (or Temporal Cloud), MLflow server and model server.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { AesGcmCodec } from '../codec/aes-gcm.ts';
import { codecKeysFromEnv } from '../codec/keys.ts';
import { PROJECT_ROOT } from './paths.ts';

export interface TemporalConfig {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: string;
  /** Off, on with the system's CAs (true), or with a client certificate (mTLS) and/or own CA. */
  tls: boolean | TLSConfig;
  /** Encrypts every payload the client and worker send (codec/aes-gcm.ts); off when undefined. */
  codec?: PayloadCodec;
}

/** A connection setting that cannot work; the message names the variable and the file. */
export class TemporalConfigError extends Error {
  override name = 'TemporalConfigError';
}

export function temporalConfig(env = process.env): TemporalConfig {
  const keys = codecKeysFromEnv(env);
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: tlsConfig(env),
    codec: keys ? new AesGcmCodec(keys) : undefined,
  };
}

/**
 * TLS from the environment: TEMPORAL_TLS=true for the system's CAs; TEMPORAL_TLS_CERT and
 * TEMPORAL_TLS_KEY (PEM files, together) for mTLS; TEMPORAL_TLS_CA (PEM) for a private CA;
 * TEMPORAL_TLS_SERVER_NAME when the certificate's name differs from the address's host.
 * Any of the files, or an API key, turns TLS on.
 */
export function tlsConfig(env = process.env): boolean | TLSConfig {
  const cert = env.TEMPORAL_TLS_CERT || undefined;
  const key = env.TEMPORAL_TLS_KEY || undefined;
  const ca = env.TEMPORAL_TLS_CA || undefined;
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new TemporalConfigError(
      `${cert ? 'TEMPORAL_TLS_CERT is set without TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_KEY is set without TEMPORAL_TLS_CERT'}: mTLS needs the client certificate and its private key, both as PEM files`,
    );
  }
  if (env.TEMPORAL_TLS === 'false' && (cert || ca || serverName)) {
    throw new TemporalConfigError('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME: remove one or the other');
  }
  if (!cert && !ca && !serverName) return Boolean(env.TEMPORAL_API_KEY) || env.TEMPORAL_TLS === 'true';
  return {
    clientCertPair:
      cert && key
        ? { crt: readPem('TEMPORAL_TLS_CERT', cert, 'CERTIFICATE'), key: readPem('TEMPORAL_TLS_KEY', key, 'PRIVATE KEY') }
        : undefined,
    serverRootCACertificate: ca ? readPem('TEMPORAL_TLS_CA', ca, 'CERTIFICATE') : undefined,
    serverNameOverride: serverName,
  };
}

/** Reads a PEM file named by a variable, or says which variable, which file and what is wrong. */
function readPem(variable: string, path: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (err as Error).message;
    throw new TemporalConfigError(`${variable}=${path}: cannot read the file (${why})`);
  }
  // "BEGIN CERTIFICATE", and "BEGIN PRIVATE KEY" in its RSA and EC variants.
  const pattern = label === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;
  if (!pattern.test(pem.toString('latin1')))
    throw new TemporalConfigError(`${variable}=${path}: not a PEM file with a ${label.toLowerCase()} (-----BEGIN ${label}-----)`);
  return pem;
}

/** The data converter for a client or worker: the payload codec when one is configured. */
export function dataConverter(config: TemporalConfig): DataConverter | undefined {
  return config.codec ? { payloadCodecs: [config.codec] } : undefined;
}

/** No usable reviewer identity, or a --reviewer flag that contradicts it. */
export class ReviewerIdentityError extends Error {
  override name = 'ReviewerIdentityError';
}

/**
 * Who this person is when they approve or reject: PERENNIAL_REVIEWER, else `reviewer:` in the
 * config file (PERENNIAL_CONFIG, default ~/.config/perennial/config.yaml). A --reviewer flag may
 * only repeat it. This names the person to the spec's allow-list (approval.reviewers); it proves
 * nothing by itself: Temporal's own auth (mTLS, API keys) decides who reaches the workflow.
 */
export function reviewerIdentity(flag: string | undefined, env = process.env): string {
  const file = env.PERENNIAL_CONFIG || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'perennial', 'config.yaml');
  const configured = env.PERENNIAL_REVIEWER?.trim()
    ? { name: env.PERENNIAL_REVIEWER.trim(), from: 'PERENNIAL_REVIEWER' }
    : reviewerFromFile(file, Boolean(env.PERENNIAL_CONFIG));
  if (!configured) {
    throw new ReviewerIdentityError(
      `no reviewer identity configured: set PERENNIAL_REVIEWER, or "reviewer: <your name>" in ${file}${flag ? ' (--reviewer alone is not accepted)' : ''}`,
    );
  }
  if (flag !== undefined && flag.trim() !== configured.name) {
    throw new ReviewerIdentityError(
      `--reviewer ${flag} disagrees with your configured identity "${configured.name}" (${configured.from}): drop the flag or change the configuration`,
    );
  }
  return configured.name;
}

function reviewerFromFile(path: string, named: boolean): { name: string; from: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // The default file is optional; a file named by PERENNIAL_CONFIG must exist.
    if (!named && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ReviewerIdentityError(`PERENNIAL_CONFIG=${path}: cannot read the file (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ReviewerIdentityError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const reviewer = (parsed as { reviewer?: unknown } | null)?.reviewer;
  if (reviewer === undefined) return undefined;
  if (typeof reviewer !== 'string' || reviewer.trim() === '')
    throw new ReviewerIdentityError(`${path}: reviewer must be your name, a non-empty string`);
  return { name: reviewer.trim(), from: path };
}

export const TASK_QUEUE = process.env.PERENNIAL_TASK_QUEUE ?? 'perennial';

export const defaults = {
  mlflowUrl: () => process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000',
  servingUrl: () => process.env.PERENNIAL_SERVING_URL ?? 'http://127.0.0.1:8080',
  adminToken: () => process.env.PERENNIAL_ADMIN_TOKEN ?? 'perennial-dev-token',
  dataDir: () => process.env.PERENNIAL_DATA_DIR ?? join(PROJECT_ROOT, '.data'),
  dbPath: () => process.env.PERENNIAL_DB ?? join(defaults.dataDir(), 'perennial.sqlite'),
  /**
   * Where the store is: PERENNIAL_DATABASE_URL when set (postgres://user:password@host:port/db:
   * one database that model-server replicas and workers share), else the SQLite file dbPath().
   */
  storeLocation: () => process.env.PERENNIAL_DATABASE_URL?.trim() || defaults.dbPath(),
  /** PERENNIAL_DB_SYNCHRONOUS: 'full' makes each commit of the model server's log wait for the disk (StoreOptions.synchronous). */
  dbSynchronous: (): 'normal' | 'full' => {
    const value = process.env.PERENNIAL_DB_SYNCHRONOUS?.trim().toLowerCase() || 'normal';
    if (value !== 'normal' && value !== 'full') throw new Error(`PERENNIAL_DB_SYNCHRONOUS=${value}: expected normal or full`);
    return value;
  },
};
