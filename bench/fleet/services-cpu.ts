/**
 * The CPU of the services a fleet leans on (the Temporal dev server, MLflow, Postgres), read from
 * /proc: on one machine they share the cores with the worker, so a cycle's cost is not the
 * worker's alone. The stack starts each service as the leader of its own process group
 * (stack/services.ts), so a process is charged to the service that leads its group, which
 * counts MLflow's web workers with it. Linux only; elsewhere nothing is counted.
 */
import { readdirSync } from 'node:fs';
import { processCommand, processStat } from '../../stack/processes.ts';

const SERVICES: Array<[name: string, command: RegExp]> = [
  ['temporal', /\btemporal\b.*\bstart-dev\b/],
  ['mlflow', /\bmlflow\b.*\bserver\b/],
  ['postgres', /\bpostgres\b/],
];

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
    const stat = processStat(Number(pid));
    if (!stat) continue; // exited meanwhile
    if (!serviceOfGroup.has(stat.pgrp)) {
      const leader = processCommand(stat.pgrp) ?? '';
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
