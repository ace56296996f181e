/**
 * Who is this process, and who holds this port: what `npm start` needs to tell its own orphaned
 * servers from a stranger's. Reads /proc on Linux (only this user's processes are visible there);
 * elsewhere falls back to `ps` for commands and says it cannot tell who holds a port.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ProcessInfo {
  pid: number;
  /** The command line, arguments separated by spaces. */
  command: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

export function processCommand(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw) return raw.replace(/\0+$/, '').split('\0').join(' ');
  } catch {
    // not Linux, or gone: ask ps
  }
  const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 && ps.stdout.trim() ? ps.stdout.trim() : undefined;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_S = 100;

/** A process's group and its CPU so far (user plus system, all threads, in ms), from /proc (Linux only). */
export function processStat(pid: number): { pgrp: number; cpuMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ... utime stime": comm may hold spaces and parentheses, so count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(fields[2]), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

/** The process group `pid` belongs to (Linux only). */
export function processGroup(pid: number): number | undefined {
  return processStat(pid)?.pgrp;
}

/** The inodes of sockets listening on `port` (any address), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): string[] {
  const inodes: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const LISTEN = '0A';
      if (fields.length > 9 && fields[3] === LISTEN && parseInt(fields[1].split(':')[1], 16) === port) inodes.push(fields[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on `port`: the socket's inode from /proc/net, then the process with a
 * file descriptor on it. Undefined when nothing listens, or when the holder is not visible
 * (another user's process, or no /proc).
 */
export function portHolder(port: number): ProcessInfo | undefined {
  const sockets = new Set(listeningInodes(port).map((inode) => `socket:[${inode}]`));
  if (sockets.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (sockets.has(target)) {
        const pid = Number(entry);
        return { pid, command: processCommand(pid) ?? '(command unknown)' };
      }
    }
  }
  return undefined;
}

/** True when a server could bind `port` on 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once('error', () => ok(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => ok(true)));
  });
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly service: string,
    readonly holder: ProcessInfo | undefined,
  ) {
    const who = holder ? `pid ${holder.pid} (${holder.command})` : "a process this user cannot see (another user's, or no /proc to ask)";
    super(`port ${port}, needed by the ${service}, is already in use by ${who}; stop it, or choose another port`);
    this.name = 'PortInUseError';
  }
}

/** Fails with a message naming the port and what holds it, unless `port` is free. */
export async function assertPortFree(port: number, service: string): Promise<void> {
  if (await portFree(port)) return;
  throw new PortInUseError(port, service, portHolder(port));
}
