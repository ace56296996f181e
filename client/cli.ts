/**
 * `perennial`: the command line over PerennialClient. Every command validates its input and
 * prints a readable error (exit code 1) instead of a stack trace.
 */
import { Command, Option } from 'commander';
import { ZodError } from 'zod';
import { formatIssues } from '../core/spec.ts';
import { isRegression, labelClasses } from '../core/spec-reading.ts';
import { openStore } from '../adapters/store/index.ts';
// The Temporal client and the HTTP client (undici), and the modules built on them, are imported
// by the commands that use them (`await import`): loading them took ~0.7 s of the ~2.1 s of CPU
// every start cost, and validate, import, records, quarantine (or any refused input) need neither.
import type { PerennialClient } from './client.ts';
import { defaults, reviewerIdentity } from '../config/environment.ts';
import { prepareImport } from './import.ts';
import type { ExportProgress, LogFormat } from './export.ts';
import type { LabelQueueStrategy } from './label-queue.ts';
import { readDataFile, readSpecFile } from './spec-file.ts';
import { readSpecs } from './spec-folder.ts';
import { registerAll, registerSummary } from './register-all.ts';
import { trainingPermitsText } from './training-limit.ts';
import { currentSourceVersion } from '../config/source-version.ts';
import { statusText } from './status-view.ts';
import type { FollowEnd } from './follow-view.ts';

const FOLLOW_HELP = `
Following shows the retrain's stage and decisions, and during its sweep the trials done of the
budget, the trial rungs trained, the best objective so far and an ETA: the mean time per epoch
of the trial rungs finished so far, times the epochs the rest of the trial budget trains,
divided by the sweep's parallelism (never past its wall-time budget). In a terminal it draws
progress bars; otherwise (a pipe, a log) it prints one plain line per change. It polls every
second and ends with the retrain's outcome (exit 0, or 1 when the retrain failed); Ctrl-C stops
following (exit 0) and leaves the retrain running.`;

const program = new Command('perennial').description('Keep machine-learning models fresh: continuous training on Temporal and MLflow');

/** Runs a command with a connected client and turns failures into one readable line. */
function withClient<Args extends unknown[]>(action: (client: PerennialClient, ...args: Args) => Promise<unknown>) {
  return async (...args: Args) => {
    const client = await (await import('./client.ts')).PerennialClient.connect();
    try {
      const output = await action(client, ...args);
      if (output !== undefined) console.log(typeof output === 'string' ? output : JSON.stringify(output, null, 2));
    } finally {
      await client.close();
    }
  };
}

program
  .command('validate <spec-or-folder>')
  .description('check a model spec file (YAML or JSON), or every spec file of a folder, without starting anything')
  .action((path: string) => {
    for (const { path: file, spec } of readSpecs(path, 'not valid')) {
      const label = isRegression(spec.label) ? 'regression (number)' : `${labelClasses(spec.label).length} classes`;
      console.log(`${file}: valid spec for model "${spec.name}" (${spec.features.length} features, ${label})`);
    }
  });

program
  .command('register <spec-or-folder>')
  .description('start the lifecycle of each model described by a spec file, or by every spec file of a folder')
  .action(async (path: string) => {
    // Every spec is checked before Temporal is contacted: one bad file and nothing is registered.
    const sources = readSpecs(path);
    for (const { spec } of sources)
      if (spec.approval.required && spec.approval.reviewers.length === 0)
        console.error(`warning: approval.reviewers is empty, so anyone who can signal Temporal may approve ${spec.name}'s challengers`);
    await withClient(async (client) => {
      const result = await registerAll(client, sources, (line) => console.log(line));
      if (sources.length > 1) console.log(registerSummary(result));
      if (result.failed.length) process.exitCode = 1;
    })();
  });

/** The fleet view: every running model from one visibility query (client/fleet.ts). */
async function fleet(client: PerennialClient, opts: { json?: boolean }): Promise<string> {
  const { fleetTable, listFleet } = await import('./fleet.ts');
  const rows = await listFleet(client.temporal);
  return opts.json ? JSON.stringify(rows, null, 2) : fleetTable(rows, terminalWidth());
}

program
  .command('list')
  .description('every managed model: champion, stage, last trigger, last verdict, pending approvals')
  .option('--json', 'one JSON object per model instead of a table')
  .action(withClient((client, opts: { json?: boolean }) => fleet(client, opts)));

program
  .command('status [model]')
  .description('champion, running retrain, policy state and recent decisions (--all: every model, as list)')
  .option('--all', 'every managed model, as `perennial list` shows them')
  .option('--json', 'the status as JSON (with --all: one JSON object per model) instead of a table')
  .action(
    withClient(async (client, model: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      if (opts.all) return fleet(client, opts);
      if (!model) throw new Error('name a model, or use --all for every model');
      const status = await client.status(model);
      // The lifecycle knows only that a retrain runs; its stage and live test are the retrain's own.
      const active = status.activeRetrain;
      const retrain = active && (await client.retrainStatus(active.workflowId).catch(() => undefined));
      if (active && retrain) Object.assign(active, { stage: retrain.stage }, retrain.liveTest && { liveTest: retrain.liveTest });
      // A sweep waiting for a training permit says so (perennial training-limit).
      const wait = active && retrain?.stage === 'sweep' && (await client.permitWait(active.workflowId).catch(() => undefined));
      if (active && wait) active.stage = `sweep: ${wait}`;
      return opts.json ? status : statusText(status, terminalWidth());
    }),
  );

program
  .command('follow <model>')
  .description("live progress of the model's running retrain and its sweep, until the retrain ends")
  .option('--wait', 'when no retrain runs, wait for the next one (otherwise say so and exit)')
  .addHelpText('after', FOLLOW_HELP)
  .action(
    withClient(async (client, model: string, opts: { wait?: boolean }) => {
      const { followModel } = await import('./follow.ts');
      failedExit(await followModel(client, model, opts.wait ?? false, process.stdout));
    }),
  );

program
  .command('retrain <model>')
  .description('ask for a retrain now')
  .option('-r, --reason <text>', 'why (recorded with the retrain; required unless --if-code-changed)')
  .option('--by <name>', 'who asks', process.env.USER ?? 'cli')
  .option(
    '--if-code-changed',
    'only when the training code here differs from the code that trained the champion (its recorded code hash); for CI after deploying workers',
  )
  .option('--follow', 'then follow it live until it ends, as perennial follow does')
  .addHelpText('after', FOLLOW_HELP)
  .action(
    withClient(async (client, model: string, opts: { reason?: string; by: string; ifCodeChanged?: boolean; follow?: boolean }) => {
      if (!opts.ifCodeChanged && !opts.reason?.trim()) throw new Error('--reason is required: say why the model should be retrained');
      let reason = opts.reason?.trim() ?? '';
      if (opts.ifCodeChanged) {
        const [{ MlflowClient }, { codeChangeSinceChampion }] = await Promise.all([
          import('../adapters/mlflow/client.ts'),
          import('./code-change.ts'),
        ]);
        const mlflow = new MlflowClient(defaults.mlflowUrl());
        const change = await codeChangeSinceChampion(mlflow, model, currentSourceVersion()).finally(() => mlflow.close());
        if (!change.changed) return `${change.reason}: no retrain`;
        reason = reason ? `${reason}; ${change.reason}` : change.reason;
      }
      // Read before the request, so that the retrain it starts is known by its number.
      const { followRequested, lifecycleStatus } = await import('./follow.ts');
      const before = opts.follow ? await lifecycleStatus(client, model) : undefined;
      await client.retrain(model, { reason, requestedBy: opts.by });
      console.log(`retrain of ${model} requested${opts.ifCodeChanged ? `: ${reason}` : ''}`);
      if (before) failedExit(await followRequested(client, before, process.stdout));
    }),
  );

// The reviewer is who this person is configured to be, never just what a flag says: the spec's
// approval.reviewers checks the name, Temporal's auth (mTLS, API keys) who may send it at all.
for (const decision of ['approve', 'reject'] as const) {
  program
    .command(`${decision} <model>`)
    .description(
      `${decision} the challenger waiting for review, as the reviewer named by PERENNIAL_REVIEWER or ~/.config/perennial/config.yaml`,
    )
    .option('--reviewer <name>', 'must match your configured identity (recorded)')
    .option('-c, --comment <text>', 'why', '')
    .action(async (model: string, opts: { reviewer?: string; comment: string }) => {
      const reviewer = reviewerIdentity(opts.reviewer);
      await withClient((client) => client.review(model, decision, { reviewer, comment: opts.comment }))();
    });
}

program
  .command('rollback <model>')
  .description('put the previous champion (or --to VERSION) back in service')
  .requiredOption('-r, --reason <text>', 'why (recorded)')
  .option('--to <version>', 'registered version to return to')
  .option('--by <name>', 'who asks', process.env.USER ?? 'cli')
  .action(
    withClient(async (client, model: string, opts: { reason: string; to?: string; by: string }) => {
      // Waits for the rollback; a refusal (unknown version, ...) throws and exits 1 with its reason.
      return client.rollback(model, { reason: opts.reason, toVersion: opts.to, requestedBy: opts.by });
    }),
  );

program
  .command('policies <model> <file>')
  .description('replace the retraining policies of a running model with those in a YAML or JSON file')
  .requiredOption('-r, --reason <text>', 'why (recorded with the change)')
  .option('--by <name>', 'who changes them', process.env.USER ?? 'cli')
  .action(
    withClient(async (client, model: string, path: string, opts: { reason: string; by: string }) =>
      client.setPolicies(model, { policies: readDataFile(path) as never, changedBy: opts.by, reason: opts.reason }),
    ),
  );

for (const action of ['pause', 'resume'] as const) {
  program
    .command(`${action} [model]`)
    .description(
      action === 'pause'
        ? 'stop monitoring and policy-triggered retrains of a model, or of every model --where selects'
        : 'resume monitoring of a model, or of every model --where selects',
    )
    .option('--where <query>', 'the models whose lifecycle matches a Temporal visibility query, e.g. "Stage = \'monitoring\'"')
    .option('--all', 'every managed model')
    .option('--dry-run', 'with --where or --all: list what would change, change nothing')
    .action(
      withClient(async (client, model: string | undefined, opts: { where?: string; all?: boolean; dryRun?: boolean }) => {
        const bulk = opts.where !== undefined || opts.all;
        if ([model !== undefined, opts.where !== undefined, opts.all].filter(Boolean).length !== 1)
          throw new Error(`${action} one model, or use --where <query> or --all (only one of them)`);
        if (!bulk) {
          if (opts.dryRun) throw new Error('--dry-run goes with --where or --all');
          await (action === 'pause' ? client.pause(model!) : client.resume(model!));
          return `${model} ${action === 'pause' ? 'paused' : 'resumed'}`;
        }
        const { pauseOrResumeAll, pauseSummary, selectLifecycles } = await import('./pause-where.ts');
        const lifecycles = await selectLifecycles(client.temporal, opts.where);
        const result = await pauseOrResumeAll(client, action, lifecycles, (line) => console.log(line), opts.dryRun);
        if (result.failed.length) process.exitCode = 1;
        return `${pauseSummary(action, result, opts.dryRun)} (of ${lifecycles.length} models ${opts.where ? `where ${opts.where}` : 'managed'})`;
      }),
    );
}
program
  .command('stop <model>')
  .description('stop the lifecycle and delete its schedule')
  .action(withClient(async (client, model: string) => (await client.stop(model), `${model} lifecycle stopped`)));

program
  .command('import <spec> <file>')
  .description("add labelled rows (CSV or JSON) to the model's training records and tell its lifecycle; all or nothing")
  .option('-w, --where <column=value...>', 'keep only rows where column equals value')
  .option('--source <name>', 'what the records are recorded as coming from (for records --by-source and quarantine)')
  .action(async (specPath: string, file: string, opts: { where?: string[]; source?: string }) => {
    const spec = readSpecFile(specPath);
    // Checked before anything is stored or anyone is told: a refused file changes nothing.
    const { records, report } = prepareImport(spec, file, opts.where, opts.source);
    const store = await openStore(defaults.storeLocation());
    let added: number;
    try {
      added = await store.addRecords(spec.name, records);
    } finally {
      await store.close();
    }
    for (const warning of report.warnings) console.error(`perennial: warning: ${warning}`);
    console.log(`${added} records added to ${spec.name}; ${await tellLifecycle(spec.name, added, records[0].source, specPath)}`);
  });

/** Tells a running lifecycle that data arrived; the records are stored whatever it answers. */
async function tellLifecycle(model: string, rows: number, source: string, specPath: string): Promise<string> {
  const { PerennialClient, WorkflowNotFoundError } = await import('./client.ts');
  let client: PerennialClient | undefined;
  try {
    client = await PerennialClient.connect();
    await client.dataArrived(model, rows, source);
    return 'its lifecycle is monitoring now';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return `its lifecycle is not running (perennial register ${specPath})`;
    return `its lifecycle could not be told (${(err as Error).message}); it sees them at its next monitoring cycle`;
  } finally {
    await client?.close();
  }
}

program
  .command('records <model>')
  .description("the model's training records per source (file, feedback...), in service and quarantined")
  .option('--by-source', 'one line per source (the default, and the only view for now)')
  .action(async (model: string) => {
    const store = await openStore(defaults.storeLocation());
    try {
      const sources = await store.recordsBySource(model);
      if (sources.length === 0) return console.log(`${model} has no records`);
      for (const s of sources) {
        const quarantined = s.quarantined ? `, ${s.quarantined} quarantined` : '';
        console.log(
          `${s.source}: ${s.records} records${quarantined} (ids ${s.firstId}-${s.lastId}, ${s.firstAt.slice(0, 19)}Z to ${s.lastAt.slice(0, 19)}Z)`,
        );
      }
    } finally {
      await store.close();
    }
  });

program
  .command('quarantine <model>')
  .description('take the records of one source out of every training window (kept aside; --restore puts them back)')
  .requiredOption('--source <source>', 'the source, as records --by-source lists it')
  .option('-r, --reason <text>', 'why (recorded with the quarantined records)', '')
  .option('--restore', 'put quarantined records of the source back into service')
  .action(async (model: string, opts: { source: string; reason: string; restore?: boolean }) => {
    const store = await openStore(defaults.storeLocation());
    try {
      const known = (await store.recordsBySource(model)).find((s) => s.source === opts.source);
      if (!known)
        throw new Error(`${model} has no records from source "${opts.source}" (perennial records ${model} --by-source lists them)`);
      if (opts.restore)
        return console.log(`${await store.restoreSource(model, opts.source)} records of ${opts.source} back in service for ${model}`);
      if (!opts.reason.trim()) throw new Error('say why with --reason: it is recorded with the quarantined records');
      console.log(
        `${await store.quarantineSource(model, opts.source, opts.reason)} records of ${opts.source} quarantined: no training window of ${model} includes them`,
      );
    } finally {
      await store.close();
    }
  });

program
  .command('export <model>')
  .description("write the model's prediction log (inputs, outputs, feedback) from the model server to a file")
  .requiredOption('-o, --out <file>', 'the file to write')
  .addOption(new Option('-f, --format <format>', 'csv or ndjson (default: csv when the file ends in .csv)').choices(['csv', 'ndjson']))
  .option('--since <seq|time>', 'only the predictions after this seq, or made at or after this ISO time')
  .action(async (model: string, opts: { out: string; format?: LogFormat; since?: string }) => {
    const format = opts.format ?? (opts.out.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
    const progress = throttled((p: ExportProgress) => console.error(`perennial: ${p.rows} rows (${p.bytes} bytes) so far`), 1000);
    const { exportLog } = await import('./export.ts');
    const done = await exportLog({
      servingUrl: defaults.servingUrl(),
      adminToken: defaults.adminToken(),
      model,
      since: opts.since,
      format,
      out: opts.out,
      onProgress: progress,
    });
    console.log(`${done.rows} predictions of ${model} written to ${opts.out} (${format}, ${done.bytes} bytes)`);
  });

program
  .command('label-queue <model>')
  .description("the served predictions most worth labelling, from the model server (feedback sent for them is counted as the queue's)")
  .option('-n, --limit <n>', 'at most this many (1-500)', '50')
  .addOption(
    new Option('-s, --strategy <strategy>', 'lowest confidence first, or most disagreement with the shadow first')
      .choices(['confidence', 'disagreement'])
      .default('confidence'),
  )
  .option('--since <seq|time>', 'only the predictions after this seq, or made at or after this ISO time')
  .option('--json', "print the server's JSON answer instead of a table")
  .action(async (model: string, opts: { limit: string; strategy: LabelQueueStrategy; since?: string; json?: boolean }) => {
    const { fetchLabelQueue, labelQueueTable } = await import('./label-queue.ts');
    const queue = await fetchLabelQueue({
      servingUrl: defaults.servingUrl(),
      adminToken: defaults.adminToken(),
      model,
      limit: opts.limit,
      strategy: opts.strategy,
      since: opts.since,
    });
    console.log(opts.json ? JSON.stringify(queue, null, 2) : labelQueueTable(queue));
  });

// ---- training limit: a namespace-wide cap on concurrent sweeps (core/training-permits.ts) ----
program
  .command('training-limit [sweeps]')
  .description('how many sweeps may train at once in the namespace: set it, or --unlimited, or show it (with holders and queue)')
  .option('--unlimited', 'no limit: every waiting sweep starts')
  .action(
    withClient(async (client, sweeps: string | undefined, opts: { unlimited?: boolean }) => {
      if (sweeps !== undefined && opts.unlimited) throw new Error('give a number of sweeps or --unlimited, not both');
      if (sweeps === undefined && !opts.unlimited) return trainingPermitsText(await client.trainingPermits());
      if (opts.unlimited && !(await client.trainingPermits())) return trainingPermitsText(undefined);
      // Number('') is 0: an empty argument is refused as no number at all, by the client's check.
      const limit = opts.unlimited ? null : sweeps!.trim() ? Number(sweeps) : NaN;
      return trainingPermitsText(await client.setTrainingLimit(limit));
    }),
  );

/** The terminal's width, or the width tables are cut to in a pipe. */
function terminalWidth(): number {
  return process.stdout.isTTY ? process.stdout.columns : 100;
}

/** A retrain followed to a failure (or cancelled, terminated) exits 1; any outcome it decided, 0. */
function failedExit(end: FollowEnd | undefined): void {
  if (end && end !== 'stopped' && end.failed) process.exitCode = 1;
}

/** Calls `report` on the first value, then at most once per `ms`. */
function throttled<T>(report: (value: T) => void, ms: number): (value: T) => void {
  let last = -Infinity;
  return (value) => {
    if (Date.now() - last < ms) return;
    last = Date.now();
    report(value);
  };
}

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof ZodError ? `invalid input:\n${formatIssues(err)}` : err instanceof Error ? err.message : String(err);
  console.error(`perennial: ${message}`);
  process.exit(1);
});
