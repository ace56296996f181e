/** Temporal connection settings (TLS, mTLS files) and the reviewer identity, from the environment and files. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { reviewerIdentity, ReviewerIdentityError, temporalConfig, TemporalConfigError, tlsConfig } from '../../config/environment.ts';
import { tempDir } from '../helpers/services.ts';

const dir = tempDir('perennial-config-');
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
const cert = file('client.pem', CERT);
const key = file('client.key', '-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n');
const ca = file('ca.pem', CERT);

function refusal(fn: () => unknown, type: new (...args: any[]) => Error = TemporalConfigError): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err.message;
  }
  return assert.fail('expected a refusal');
}

test('TLS is off by default, on with TEMPORAL_TLS=true or an API key', () => {
  assert.equal(tlsConfig({}), false);
  assert.equal(tlsConfig({ TEMPORAL_TLS: 'true' }), true);
  assert.equal(tlsConfig({ TEMPORAL_API_KEY: 'k' }), true);
  assert.deepEqual(temporalConfig({}), {
    address: '127.0.0.1:7233',
    namespace: 'default',
    apiKey: undefined,
    tls: false,
    codec: undefined,
  });
});

test('mTLS reads the client certificate, key, CA and server name from the files the variables name', () => {
  const tls = tlsConfig({
    TEMPORAL_TLS_CERT: cert,
    TEMPORAL_TLS_KEY: key,
    TEMPORAL_TLS_CA: ca,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  assert.ok(typeof tls === 'object');
  assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), CERT);
  assert.match(Buffer.from(tls.clientCertPair!.key).toString(), /BEGIN EC PRIVATE KEY/);
  assert.equal(Buffer.from(tls.serverRootCACertificate!).toString(), CERT);
  assert.equal(tls.serverNameOverride, 'temporal.internal');
  // A private CA alone: server-side TLS against it, no client certificate.
  const caOnly = tlsConfig({ TEMPORAL_TLS_CA: ca });
  assert.ok(typeof caOnly === 'object');
  assert.equal(caOnly.clientCertPair, undefined);
  assert.equal(Buffer.from(caOnly.serverRootCACertificate!).toString(), CERT);
});

test('missing, unreadable or wrong mTLS files are refused naming the variable and the file', () => {
  assert.match(
    refusal(() => tlsConfig({ TEMPORAL_TLS_CERT: cert })),
    /^TEMPORAL_TLS_CERT is set without TEMPORAL_TLS_KEY: mTLS needs the client certificate and its private key, both as PEM files$/,
  );
  assert.match(
    refusal(() => tlsConfig({ TEMPORAL_TLS_KEY: key })),
    /^TEMPORAL_TLS_KEY is set without TEMPORAL_TLS_CERT/,
  );
  const missing = join(dir, 'nope.pem');
  assert.equal(
    refusal(() => tlsConfig({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: key })),
    `TEMPORAL_TLS_CERT=${missing}: cannot read the file (no such file)`,
  );
  assert.equal(
    refusal(() => tlsConfig({ TEMPORAL_TLS_CA: dir })),
    `TEMPORAL_TLS_CA=${dir}: cannot read the file (it is a folder)`,
  );
  assert.equal(
    refusal(() => tlsConfig({ TEMPORAL_TLS_CERT: key, TEMPORAL_TLS_KEY: cert })),
    `TEMPORAL_TLS_CERT=${key}: not a PEM file with a certificate (-----BEGIN CERTIFICATE-----)`,
  );
  assert.match(
    refusal(() => tlsConfig({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: cert })),
    /^TEMPORAL_TLS_KEY=.*client\.pem: not a PEM file with a private key/,
  );
  assert.match(
    refusal(() => tlsConfig({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: ca })),
    /TEMPORAL_TLS=false contradicts/,
  );
  // temporalConfig, which the client and worker use, refuses the same way.
  assert.match(
    refusal(() => temporalConfig({ TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: key })),
    /cannot read the file \(no such file\)/,
  );
  if (process.getuid?.() !== 0) {
    const locked = file('locked.key', 'x');
    chmodSync(locked, 0o000);
    assert.match(
      refusal(() => tlsConfig({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: locked })),
      /TEMPORAL_TLS_KEY=.*locked\.key: cannot read the file \(permission denied\)/,
    );
  }
});

test('the reviewer identity comes from PERENNIAL_REVIEWER or the config file; a flag may only repeat it', () => {
  const home = tempDir('perennial-home-');
  const env = { XDG_CONFIG_HOME: home };
  assert.match(
    refusal(() => reviewerIdentity(undefined, env), ReviewerIdentityError),
    /^no reviewer identity configured: set PERENNIAL_REVIEWER, or "reviewer: <your name>" in .*perennial\/config\.yaml$/,
  );
  assert.match(
    refusal(() => reviewerIdentity('ana', env), ReviewerIdentityError),
    /\(--reviewer alone is not accepted\)/,
  );

  mkdirSync(join(home, 'perennial'));
  writeFileSync(join(home, 'perennial', 'config.yaml'), 'reviewer: ana\n');
  assert.equal(reviewerIdentity(undefined, env), 'ana');
  assert.equal(reviewerIdentity('ana', env), 'ana');
  assert.match(
    refusal(() => reviewerIdentity('bob', env), ReviewerIdentityError),
    /^--reviewer bob disagrees with your configured identity "ana" \(.*config\.yaml\)/,
  );

  // The environment wins over the file.
  assert.equal(reviewerIdentity(undefined, { ...env, PERENNIAL_REVIEWER: 'carla' }), 'carla');
  assert.match(
    refusal(() => reviewerIdentity('ana', { ...env, PERENNIAL_REVIEWER: 'carla' }), ReviewerIdentityError),
    /disagrees with your configured identity "carla" \(PERENNIAL_REVIEWER\)/,
  );

  const named = file('perennial.yaml', 'reviewer: [ana]\n');
  assert.match(
    refusal(() => reviewerIdentity(undefined, { PERENNIAL_CONFIG: named }), ReviewerIdentityError),
    /perennial\.yaml: reviewer must be your name, a non-empty string/,
  );
  assert.match(
    refusal(() => reviewerIdentity(undefined, { PERENNIAL_CONFIG: join(dir, 'absent.yaml') }), ReviewerIdentityError),
    /^PERENNIAL_CONFIG=.*absent\.yaml: cannot read the file/,
  );
  assert.match(
    refusal(() => reviewerIdentity(undefined, { PERENNIAL_CONFIG: file('broken.yaml', 'reviewer: [') }), ReviewerIdentityError),
    /broken\.yaml: not valid YAML/,
  );
});
