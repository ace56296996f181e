/**
 * Tools the tests run that come from Debian's packages (promtool and prometheus, chromium),
 * installed when missing: a fresh CI machine has none of them, and `npm test` must bring what it
 * needs. Installing needs root and apt-get; without either, the message says what to install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A command the project runs, and the Debian package that provides it. */
export interface DebianTool {
  command: string;
  package: string;
}

/** A tool that is missing and cannot be installed here, or an install that failed. */
export class DebianPackagesError extends Error {
  override name = 'DebianPackagesError';
}

/** The packages to install for the tools that `hasCommand` does not find, each once, in order. */
export function missingPackages(tools: DebianTool[], hasCommand: (command: string) => boolean): string[] {
  return [...new Set(tools.filter((tool) => !hasCommand(tool.command)).map((tool) => tool.package))];
}

/** Whether an executable `command` is on PATH. */
export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** What installing needs from this machine: who we are, whether apt-get exists, and how to run it. */
export interface Installer {
  isRoot: boolean;
  hasAptGet: boolean;
  /** Runs apt-get with `args`; true when it exited 0. */
  aptGet(args: string[]): boolean;
  log(line: string): void;
}

const systemInstaller = (): Installer => ({
  isRoot: process.getuid?.() === 0,
  hasAptGet: onPath('apt-get'),
  aptGet: (args) =>
    spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      .status === 0,
  log: (line) => console.error(line),
});

/**
 * Installs the packages of the tools not on PATH (`apt-get install -y --no-install-recommends`,
 * after `apt-get update` when the first try fails, e.g. on a machine whose package lists were
 * never fetched), and checks that the tools are there afterwards.
 */
export function ensureDebianPackages(
  tools: DebianTool[],
  hasCommand: (command: string) => boolean = (command) => onPath(command),
  installer: Installer = systemInstaller(),
): void {
  const packages = missingPackages(tools, hasCommand);
  if (!packages.length) return;
  const wanted = tools.filter((tool) => packages.includes(tool.package)).map((tool) => tool.command);
  const manual = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!installer.hasAptGet)
    throw new DebianPackagesError(
      `${wanted.join(', ')} not found, and there is no apt-get to install them: install ${packages.join(', ')}`,
    );
  if (!installer.isRoot) throw new DebianPackagesError(`${wanted.join(', ')} not found: as root, run ${manual}`);
  const install = ['install', '-y', '--no-install-recommends', ...packages];
  for (const name of packages) installer.log(`installing ${name} from Debian's packages...`);
  if (!installer.aptGet(install)) {
    installer.log("updating Debian's package lists, then installing again...");
    if (!installer.aptGet(['update']) || !installer.aptGet(install))
      throw new DebianPackagesError(`could not install ${packages.join(', ')}: apt-get failed (its output is above)`);
  }
  const stillMissing = wanted.filter((command) => !hasCommand(command));
  if (stillMissing.length)
    throw new DebianPackagesError(`installed ${packages.join(', ')}, but ${stillMissing.join(', ')} is still not on PATH`);
  installer.log(`installed ${packages.join(', ')}`);
}
