/**
 * `perennial follow`, `perennial retrain --follow` and the `status` table as a user runs them
 * (child processes with stdout a pipe, so plain lines), on the real stack: a retrain with a
 * small sweep followed from its start to its promotion, a model with no retrain running, Ctrl-C,
 * and a requested retrain followed to its outcome.
 */
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { before, test } from 'node:test';
import { retrainWorkflowId } from '../../core/messages.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { eventually, registerSeeded, startStack, testSpec, type Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});

const perennial = (...args: string[]) => runCli(stack, ...args);

/** A child's stdout so far, its stderr, and its exit. */
function watch(child: ChildProcess) {
  const seen = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (seen.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (seen.stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { seen, exit };
}

test('follow shows a retrain live, from its stages and sweep to its outcome, as plain lines; status is a table', async () => {
  // Three trials, rungs at 3 and 9 epochs: three first rungs, then the best one's second.
  const spec = testSpec();
  const sweep = spec.training.sweep;
  Object.assign(sweep, { budget: { ...sweep.budget, maxTrials: 3 } });
  await registerSeeded(stack, spec);
  // The initial training starts at once: following it may begin before or after it shows.
  const { seen, exit } = watch(await spawnCli(stack, 'follow', spec.name, '--wait'));
  const code = await exit;
  assert.equal(code, 0, seen.stderr);
  const lines = seen.stdout.trimEnd().split('\n');
  assert.ok(!seen.stdout.includes('\x1b'), 'no ANSI when stdout is not a terminal');
  assert.ok(
    lines.includes(
      `following retrain #1 of ${spec.name} (${retrainWorkflowId(spec.name, 1)}), trigger: initial training: the model has no champion yet`,
    ),
    seen.stdout,
  );

  // Each stage once, in the retrain's order; a stage shorter than a poll (validate, evaluate) may pass unseen.
  const order = ['snapshot', 'validate', 'sweep', 'evaluate', 'promoted'];
  const stages = lines.filter((l) => l.startsWith('stage: ')).map((l) => order.indexOf(l.slice('stage: '.length)));
  assert.ok(
    stages.every((s, i) => s >= 0 && (i === 0 || s > stages[i - 1])),
    `stages in order, each once: ${lines.filter((l) => l.startsWith('stage: ')).join(', ')}`,
  );
  assert.ok(stages.includes(order.indexOf('sweep')) && stages.at(-1) === order.indexOf('promoted'), seen.stdout);
  const progress = lines.filter((l) => l.startsWith('sweep: '));
  const done = progress.map((l) => Number(/^sweep: (\d+)\/3 trials done, \d+\/4 trial rungs/.exec(l)?.[1]));
  assert.ok(
    done.every((d, i) => !Number.isNaN(d) && (i === 0 || d >= done[i - 1])),
    `trials done never fall: ${progress.join(' | ')}`,
  );
  assert.ok(done[0] < 3 && done.at(-1) === 3, `trials done rise to the budget: ${done.join(', ')}`);
  assert.match(progress.at(-1)!, /, 4\/4 trial rungs, best val_accuracy 0\.\d{4} \(trial [0-2]\)/);
  assert.ok(
    progress.some((l) => / ETA \d+s$/.test(l)),
    `an ETA once a rung has finished: ${progress.join(' | ')}`,
  );
  assert.match(
    lines.at(-1)!,
    new RegExp(`^retrain #1 of ${spec.name} ended: promoted \\(promoted version 1 to champion; challenger 0\\.\\d+ vs champion \\(none\\)`),
  );

  const table = await perennial('status', spec.name);
  assert.equal(table.code, 0, table.stderr);
  // Monitoring every second, the lifecycle may be in a cycle right now.
  assert.match(table.stdout, /^model {5}t-[0-9a-f]+\nchampion {2}v1\nstage {5}monitoring(, monitoring cycle running)?\n/);
  assert.match(table.stdout, /\nrecent decisions \(newest last; --json for all \d+\)\n {2}at {19}what +why\n/);
  assert.match(table.stdout, / {2}retrain #1: promoted +trigger: initial training/);
  const json = await perennial('status', spec.name, '--json');
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { model: string; championVersion: string; activeRetrain?: unknown };
  assert.deepEqual([parsed.model, parsed.championVersion, parsed.activeRetrain], [spec.name, '1', undefined]);
});

test('follow with no retrain running says so, --wait stops cleanly on Ctrl-C, and retrain --follow follows the retrain it asked for', async () => {
  // No records: every retrain of this model stops at validation, in seconds.
  const spec = testSpec();
  await stack.client.register(spec);
  await eventually('the initial retrain ended', async () => {
    const s = await stack.client.status(spec.name);
    return s.retrainCount === 1 && !s.activeRetrain ? true : undefined;
  });

  const idle = await perennial('follow', spec.name);
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(idle.stdout, `no retrain of ${spec.name} is running (perennial follow ${spec.name} --wait waits for the next one)\n`);

  const waiting = await spawnCli(stack, 'follow', spec.name, '--wait');
  const { seen, exit } = watch(waiting);
  await eventually('follow --wait waiting', async () => (seen.stdout.includes('waiting for the next one') ? true : undefined), 30_000);
  waiting.kill('SIGINT');
  assert.equal(await exit, 0, seen.stderr);
  assert.equal(
    seen.stdout,
    `no retrain of ${spec.name} is running: waiting for the next one (Ctrl-C stops)\nstopped waiting for a retrain of ${spec.name}\n`,
  );
  assert.equal(seen.stderr, '', 'no stack trace');

  const requested = await perennial('retrain', spec.name, '--reason', 'follow test', '--by', 'ana', '--follow');
  assert.equal(requested.code, 0, requested.stderr);
  const lines = requested.stdout.trimEnd().split('\n');
  assert.equal(lines[0], `retrain of ${spec.name} requested`);
  assert.match(lines[1], new RegExp(`^following retrain #2 of ${spec.name} \\(${retrainWorkflowId(spec.name, 2)}\\)`));
  assert.ok(lines.includes('stage: invalid-data'), requested.stdout);
  assert.ok(lines.includes('  retrain #2 started (manual (ana): follow test)'), requested.stdout);
  assert.match(lines.at(-1)!, new RegExp(`^retrain #2 of ${spec.name} ended: invalid-data \\(data validation failed: no training; `));
});
