/**
 * The CPU of the services a fleet leans on (the Temporal dev server, MLflow, Postgres), read from
 * /proc: on one machine they share the cores with the worker, so a cycle's cost is not the
 * worker's alone. The stack starts each service as the leader of its own process group
 * (stack/services.ts), so a process is charged to the service that leads its group, which
 * counts MLflow's web workers and job runners with it. Linux only; elsewhere nothing is counted.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_S = 100;
const SERVICES: Array<[name: string, command: RegExp]> = [
  ['temporal', /\btemporal\b.*\bstart-dev\b/],
  ['mlflow', /\bmlflow\b.*\bserver\b/],
  ['postgres', /\bpostgres\b/],
];

export interface ProcStat {
  pgrp: number;
  /** User plus system CPU of the process itself, in ms. */
  cpuMs: number;
}

/** One line of /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(line: string): ProcStat {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime.
  const [pgrp, utime, stime] = [fields[2], fields[11], fields[12]].map(Number);
  return { pgrp, cpuMs: ((utime + stime) * 1000) / TICKS_PER_S };
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return ''; // gone, or a kernel thread's group
  }
}

/** CPU ms used so far by each service's living processes. */
export function servicesCpuMs(): Record<string, number> {
  const totals: Record<string, number> = {};
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return totals;
  }
  const serviceOfGroup = new Map<number, string | undefined>();
  for (const pid of pids) {
    let stat: ProcStat;
    try {
      stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      continue; // exited meanwhile
    }
    if (!serviceOfGroup.has(stat.pgrp)) {
      const leader = commandOf(stat.pgrp);
      serviceOfGroup.set(stat.pgrp, SERVICES.find(([, command]) => command.test(leader))?.[0]);
    }
    const service = serviceOfGroup.get(stat.pgrp);
    if (service) totals[service] = (totals[service] ?? 0) + stat.cpuMs;
  }
  return totals;
}

/** Each service's CPU between two readings; processes that exited in between are not counted. */
export function cpuBetween(from: Record<string, number>, to: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(to).map(([service, ms]) => [service, Math.max(0, ms - (from[service] ?? 0))]));
}
