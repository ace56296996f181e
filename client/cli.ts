/**
 * `perennial`: the command line over PerennialClient. Every command validates its input and
 * prints a readable error (exit code 1) instead of a stack trace.
 */
import { Command } from 'commander';
import { ZodError } from 'zod';
import { formatIssues, isRegression, labelClasses } from '../core/spec.ts';
import { Store } from '../serving/store.ts';
import { PerennialClient, WorkflowNotFoundError } from './client.ts';
import { defaults } from './config.ts';
import { readRows, toRecords, whereEquals } from './dataset.ts';
import { readDataFile, readSpecFile } from './spec-file.ts';

const program = new Command('perennial').description('Keep machine-learning models fresh: continuous training on Temporal and MLflow');

/** Runs a command with a connected client and turns failures into one readable line. */
function withClient(action: (client: PerennialClient, ...args: any[]) => Promise<unknown>) {
  return async (...args: unknown[]) => {
    const client = await PerennialClient.connect();
    try {
      const output = await action(client, ...args);
      if (output !== undefined) console.log(typeof output === 'string' ? output : JSON.stringify(output, null, 2));
    } finally {
      await client.close();
    }
  };
}

program
  .command('validate <spec>')
  .description('check a model spec file (YAML or JSON) without starting anything')
  .action((path: string) => {
    const spec = readSpecFile(path);
    const label = isRegression(spec.label) ? 'regression (number)' : `${labelClasses(spec.label).length} classes`;
    console.log(`${path}: valid spec for model "${spec.name}" (${spec.features.length} features, ${label})`);
  });

program
  .command('register <spec>')
  .description('start the lifecycle of the model described by a spec file')
  .action(
    withClient(async (client, path: string) => {
      const spec = readSpecFile(path);
      const { workflowId } = await client.register(spec);
      return `model ${spec.name}: lifecycle workflow ${workflowId} is running`;
    }),
  );

program
  .command('status <model>')
  .description('champion, running retrain, policy state and recent decisions')
  .action(withClient((client, model: string) => client.status(model)));

program
  .command('retrain <model>')
  .description('ask for a retrain now')
  .requiredOption('-r, --reason <text>', 'why (recorded with the retrain)')
  .option('--by <name>', 'who asks', process.env.USER ?? 'cli')
  .action(
    withClient(async (client, model: string, opts: { reason: string; by: string }) => {
      await client.retrain(model, { reason: opts.reason, requestedBy: opts.by });
      return `retrain of ${model} requested`;
    }),
  );

for (const decision of ['approve', 'reject'] as const) {
  program
    .command(`${decision} <model>`)
    .description(`${decision} the challenger waiting for review`)
    .requiredOption('--reviewer <name>', 'who decides (recorded)')
    .option('-c, --comment <text>', 'why', '')
    .action(withClient((client, model: string, opts: { reviewer: string; comment: string }) => client.review(model, decision, opts)));
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

program.command('pause <model>').description('stop monitoring and policy-triggered retrains').action(
  withClient(async (client, model: string) => (await client.pause(model), `${model} paused`)),
);
program.command('resume <model>').description('resume monitoring').action(
  withClient(async (client, model: string) => (await client.resume(model), `${model} resumed`)),
);
program.command('stop <model>').description('stop the lifecycle and delete its schedule').action(
  withClient(async (client, model: string) => (await client.stop(model), `${model} lifecycle stopped`)),
);

program
  .command('import <spec> <file>')
  .description('add labelled rows (CSV or JSON) to the model\'s training records and tell its lifecycle')
  .option('-w, --where <column=value...>', 'keep only rows where column equals value')
  .action(
    withClient(async (client, specPath: string, file: string, opts: { where?: string[] }) => {
      const spec = readSpecFile(specPath);
      const where = Object.fromEntries((opts.where ?? []).map((w) => w.split('=', 2)));
      const rows = whereEquals(readRows(file), where);
      const store = Store.open(defaults.dbPath());
      try {
        const added = store.addRecords(spec.name, toRecords(rows, spec.features.map((f) => f.name), spec.label.name, file));
        try {
          await client.dataArrived(spec.name, added, file);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          return `${added} records added to ${spec.name}; its lifecycle is not running (perennial register ${specPath})`;
        }
        return `${added} records added to ${spec.name}; its lifecycle is monitoring now`;
      } finally {
        store.close();
      }
    }),
  );

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof ZodError ? `invalid input:\n${formatIssues(err)}` : err instanceof Error ? err.message : String(err);
  console.error(`perennial: ${message}`);
  process.exit(1);
});
