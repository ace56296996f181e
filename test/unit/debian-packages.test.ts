/**
 * stack/debian-packages.ts's decisions: which packages a set of missing commands needs, what runs
 * when they are missing (install, then update and install again), and the messages when it cannot
 * install. The real apt-get runs in `npm test` itself (test/run.ts) on a machine that lacks a tool;
 * here an installer records what it was asked, and a real PATH of temp folders is searched.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { DebianPackagesError, ensureDebianPackages, missingPackages, onPath, type Installer } from '../../stack/debian-packages.ts';
import { tempDir } from '../helpers/services.ts';

const TOOLS = [
  { command: 'promtool', package: 'prometheus' },
  { command: 'prometheus', package: 'prometheus' },
  { command: 'chromium', package: 'chromium' },
];
const having =
  (...commands: string[]) =>
  (command: string) =>
    commands.includes(command);

test('missing packages: each package once, in the order its tools were listed; none when every command is found', () => {
  assert.deepEqual(missingPackages(TOOLS, having('promtool', 'prometheus', 'chromium')), []);
  assert.deepEqual(missingPackages(TOOLS, having()), ['prometheus', 'chromium']);
  assert.deepEqual(missingPackages(TOOLS, having('promtool', 'prometheus')), ['chromium']);
  assert.deepEqual(missingPackages(TOOLS, having('prometheus', 'chromium')), ['prometheus'], 'one of two tools is enough to need it');
});

test('onPath finds executables only, in any folder of PATH', () => {
  const [first, second] = [join(tempDir(), 'a'), join(tempDir(), 'b')];
  for (const dir of [first, second]) mkdirSync(dir);
  writeFileSync(join(second, 'promtool'), '#!/bin/sh\n');
  chmodSync(join(second, 'promtool'), 0o755);
  writeFileSync(join(second, 'notes'), 'not a program');
  const path = [first, second].join(delimiter);
  assert.equal(onPath('promtool', path), true);
  assert.equal(onPath('notes', path), false, 'not executable');
  assert.equal(onPath('chromium', path), false);
  assert.equal(onPath('promtool', ''), false);
});

/**
 * A machine that has `present` and an apt-get answering `results` in turn (success by default): a
 * successful install puts the tools of the packages it names on the machine. Records calls and lines.
 */
function machine(options: { present?: string[]; results?: boolean[]; isRoot?: boolean; hasAptGet?: boolean } = {}) {
  const present = new Set(options.present ?? []);
  const results = [...(options.results ?? [])];
  const calls: string[] = [];
  const lines: string[] = [];
  const installer: Installer = {
    isRoot: options.isRoot ?? true,
    hasAptGet: options.hasAptGet ?? true,
    aptGet: (args) => {
      calls.push(args.join(' '));
      const ok = results.shift() ?? true;
      if (ok && args[0] === 'install') for (const tool of TOOLS) if (args.includes(tool.package)) present.add(tool.command);
      return ok;
    },
    log: (line) => lines.push(line),
  };
  const ensure = (tools = TOOLS) => ensureDebianPackages(tools, (command) => present.has(command), installer);
  return { installer, ensure, calls, lines };
}

const INSTALL = 'install -y --no-install-recommends';

test('nothing missing: apt-get is not run, nothing is printed', () => {
  const m = machine({ present: ['promtool', 'prometheus', 'chromium'] });
  m.ensure();
  assert.deepEqual([m.calls, m.lines], [[], []]);
});

test('missing: one install without recommends, each package announced; lists updated only when that install fails', () => {
  const fresh = machine({ present: ['promtool'] });
  fresh.ensure();
  assert.deepEqual(fresh.calls, [`${INSTALL} prometheus chromium`]);
  assert.deepEqual(fresh.lines, [
    "installing prometheus from Debian's packages...",
    "installing chromium from Debian's packages...",
    'installed prometheus, chromium',
  ]);

  // A machine that never fetched its package lists: install fails, update, install again.
  const noLists = machine({ results: [false] });
  noLists.ensure([TOOLS[2]]);
  assert.deepEqual(noLists.calls, [`${INSTALL} chromium`, 'update', `${INSTALL} chromium`]);
  assert.ok(noLists.lines.includes("updating Debian's package lists, then installing again..."));
});

test('cannot install: not root, no apt-get, apt-get failing, or the command still missing; each says what to do', () => {
  const refused = (m: ReturnType<typeof machine>, message: RegExp) =>
    assert.throws(
      () => m.ensure(),
      (err: Error) => err instanceof DebianPackagesError && message.test(err.message),
    );
  const notRoot = machine({ present: ['chromium'], isRoot: false });
  refused(notRoot, /^promtool, prometheus not found: as root, run apt-get install -y --no-install-recommends prometheus$/);
  assert.deepEqual(notRoot.calls, [], 'nothing run');
  const noAptGet = machine({ present: ['chromium'], hasAptGet: false });
  refused(noAptGet, /^promtool, prometheus not found, and there is no apt-get to install them: install prometheus$/);
  assert.deepEqual(noAptGet.calls, []);
  const failing = machine({ present: ['chromium'], results: [false, true, false] });
  refused(failing, /^could not install prometheus: apt-get failed/);
  assert.deepEqual(failing.calls, [`${INSTALL} prometheus`, 'update', `${INSTALL} prometheus`]);
  // apt-get says yes, but the package did not bring the command (renamed in another Debian release).
  const renamed = machine({ present: ['chromium'] });
  renamed.installer.aptGet = () => true;
  refused(renamed, /^installed prometheus, but promtool, prometheus is still not on PATH$/);
});
