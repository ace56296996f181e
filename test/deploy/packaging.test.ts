/**
 * The packaging for a cluster (Dockerfile, deploy/compose.yaml, deploy/k8s/), checked without
 * Docker or a cluster: the real validators from scripts/python-requirements.txt (hadolint, the
 * compose-spec schema vendored by check-jsonschema, kubernetes-validate's vendored schemas), the
 * files cross-checked against the code they configure, and the image's file layout run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { searchAttributeFlags } from '../../stack/search-attributes.ts';
import { freePort, VENV_BIN } from '../../stack/services.ts';
import { mlflowUrl, tempDir, temporalAddress } from '../helpers/services.ts';
import {
  composeServices,
  dockerEnv,
  dockerfileStages,
  envNamesReadByCode,
  k8sFiles,
  k8sResource,
  k8sResources,
  perennialServices,
  portOf,
  read,
  type Container,
} from './deploy-files.ts';
import { exited, runRole, stageImage, until200 } from './image-layout.ts';

const K8S_VERSIONS = ['1.33.0', '1.37.0'];
const DOCKERFILES = ['Dockerfile', 'deploy/mlflow/Dockerfile'];

/** Runs a validator from .venv; a missing one fails the test, naming the fix. */
function validator(bin: string, args: string[]): { status: number; output: string } {
  const path = join(VENV_BIN, bin);
  if (!existsSync(path)) assert.fail(`${path} is missing: run bash scripts/python-env.sh (scripts/python-requirements.txt pins ${bin})`);
  const result = spawnSync(path, args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

const hadolint = (file: string) => validator('hadolint', ['--no-color', file]);
const composeSchema = (file: string) => validator('check-jsonschema', ['--builtin-schema', 'vendor.compose-spec', file]);
const kubernetesValidate = (version: string, files: string[]) => validator('kubernetes-validate', ['--strict', '-k', version, ...files]);

/** A copy of a project file with one change, in a temporary folder; the change must apply. */
function broken(path: string, from: string | RegExp, to: string): string {
  const text = read(path);
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `${path} no longer contains ${String(from)}`);
  const file = join(tempDir('perennial-broken-'), path.split('/').at(-1)!);
  writeFileSync(file, changed);
  return file;
}

const finalStage = () => dockerfileStages('Dockerfile').at(-1)!;
const container = (deployment: string): Container => k8sResource('Deployment', deployment).spec!.template!.spec.containers[0];
const modelServer = () => container('perennial-model-server');
const worker = () => container('perennial-worker');
const configMap = () => k8sResource('ConfigMap', 'perennial-settings').data!;
const secret = () => k8sResource('Secret', 'perennial-secrets').stringData!;
/** The roles deploy/entrypoint.sh knows (`name)` in its case). */
const roles = () => [...read('deploy/entrypoint.sh').matchAll(/^\s+([a-z-]+)\)/gm)].map((m) => m[1]);

describe('packaging: the validators pass the files, and catch a broken one', () => {
  for (const file of DOCKERFILES) {
    it(`hadolint: ${file} has no finding (no ignores)`, () => {
      const { status, output } = hadolint(file);
      assert.equal(output.trim(), '');
      assert.equal(status, 0);
      assert.doesNotMatch(read(file), /hadolint ignore/);
    });
  }

  it('hadolint flags the Dockerfile with an unpinned apt package and a user by name', () => {
    const unpinned = broken('Dockerfile', 'make=4.3-4.1', 'make');
    assert.match(hadolint(unpinned).output, /DL3008/);
    const byName = broken('Dockerfile', 'USER 1000:1000', 'USER node');
    assert.match(hadolint(byName).output, /DL3066/);
  });

  it('deploy/compose.yaml is valid against the compose-spec schema that check-jsonschema vendors', () => {
    const { status, output } = composeSchema('deploy/compose.yaml');
    assert.equal(status, 0, output);
    assert.match(output, /ok -- validation done/);
  });

  it('the compose-spec schema refuses a misspelt key and a list that is a string', () => {
    const misspelt = composeSchema(broken('deploy/compose.yaml', 'stop_grace_period: 30s', 'stop_grace: 30s'));
    assert.equal(misspelt.status, 1);
    assert.match(misspelt.output, /'stop_grace' was unexpected/);
    const wrongType = composeSchema(broken('deploy/compose.yaml', 'depends_on:\n      - temporal\n', 'depends_on: temporal\n'));
    assert.equal(wrongType.status, 1);
    assert.match(wrongType.output, /depends_on/);
  });

  it('the shell scripts the image and the compose stack run parse (sh -n)', () => {
    for (const script of ['deploy/entrypoint.sh', 'deploy/temporal/schema.sh', 'deploy/temporal/setup.sh']) {
      const result = spawnSync('sh', ['-n', join(PROJECT_ROOT, script)], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${script}: ${result.stderr}`);
    }
    const unclosed = spawnSync('sh', ['-n', broken('deploy/entrypoint.sh', 'esac', '')], { encoding: 'utf8' });
    assert.notEqual(unclosed.status, 0);
  });

  for (const version of K8S_VERSIONS) {
    it(`kubernetes-validate --strict: every manifest in deploy/k8s passes against Kubernetes ${version}`, () => {
      const files = k8sFiles();
      const { status, output } = kubernetesValidate(version, files);
      assert.equal(status, 0, output);
      for (const file of files) assert.match(output, new RegExp(`${file} passed`));
    });
  }

  it('kubernetes-validate refuses a Deployment with a misspelt field or a missing container port', () => {
    const misspelt = kubernetesValidate(K8S_VERSIONS[0], [broken('deploy/k8s/model-server.yaml', 'readinessProbe:', 'readynessProbe:')]);
    assert.equal(misspelt.status, 1);
    assert.match(misspelt.output, /readynessProbe/);
    const portless = kubernetesValidate(K8S_VERSIONS[0], [broken('deploy/k8s/worker.yaml', 'containerPort: 9464', 'port: 9464')]);
    assert.equal(portless.status, 1);
    assert.match(portless.output, /containerPort/);
  });
});

describe('packaging: the files agree with the code', () => {
  it('every environment variable the files set for Perennial is one the code reads', () => {
    const readByCode = envNamesReadByCode();
    // The collector finds the names passed through helpers, not only process.env.X.
    for (const name of ['HOST', 'PORT', 'PERENNIAL_TF_BACKEND', 'PERENNIAL_WORKER_METRICS', 'PERENNIAL_BATCH_MAX_ROWS'])
      assert.ok(readByCode.has(name), name);
    const set: Record<string, string[]> = {
      'Dockerfile ENV': Object.keys(dockerEnv(finalStage())),
      'k8s ConfigMap': Object.keys(configMap()),
      'k8s Secret': Object.keys(secret()),
      'k8s container env': [modelServer(), worker()].flatMap((c) => (c.env ?? []).map((e) => e.name)),
      'compose ${...} interpolation': [...read('deploy/compose.yaml').matchAll(/\$\{([A-Z_0-9]+)/g)].map((m) => m[1]),
    };
    for (const [service, s] of Object.entries(perennialServices())) set[`compose ${service}`] = Object.keys(s.environment ?? {});
    for (const [where, names] of Object.entries(set)) {
      assert.ok(names.length > 0, `${where} sets nothing`);
      const unknown = names.filter((name) => !readByCode.has(name));
      assert.deepEqual(unknown, [], `${where} sets variables no code reads`);
    }
  });

  it('secrets are in the Secret, never the ConfigMap; compose takes them from the environment', () => {
    const secretName = /TOKEN|KEY|PASSWORD|DATABASE_URL/;
    assert.deepEqual(
      Object.keys(configMap()).filter((n) => secretName.test(n)),
      [],
    );
    assert.deepEqual(Object.keys(secret()).sort(), [
      'PERENNIAL_ADMIN_TOKEN',
      'PERENNIAL_CODEC_KEY',
      'PERENNIAL_DATABASE_URL',
      'TEMPORAL_API_KEY',
    ]);
    for (const c of [modelServer(), worker()]) {
      assert.deepEqual(
        (c.env ?? []).filter((e) => secretName.test(e.name)),
        [],
        `${c.name} sets a secret in plain env`,
      );
      assert.deepEqual(
        c.envFrom?.map((from) => from.configMapRef?.name ?? from.secretRef?.name),
        ['perennial-settings', 'perennial-secrets'],
      );
    }
    for (const [service, s] of Object.entries(perennialServices())) {
      for (const name of ['PERENNIAL_ADMIN_TOKEN', 'PERENNIAL_CODEC_KEY']) {
        const value = s.environment?.[name];
        if (value !== undefined) assert.match(String(value), new RegExp(`^\\$\\{${name}[:}]`), `${service} ${name}`);
      }
    }
  });

  it('ports and health paths match the code: model server, worker metrics, Prometheus', () => {
    // serving/main.ts: PORT, default 8080; the Open Inference routes under /v2.
    const servingPort = Number(/process\.env\.PORT \?\? (\d+)/.exec(read('serving/main.ts'))![1]);
    assert.match(read('serving/server.ts'), /openInferenceRoutes, \{ prefix: '\/v2'/);
    const routes = read('serving/v2/routes.ts');
    for (const path of ['/health/live', '/health/ready']) assert.match(routes, new RegExp(`app\\.get\\('${path}'`));

    assert.equal(Number(dockerEnv(finalStage()).PORT), servingPort);
    const exposed = finalStage()
      .find((i) => i.keyword === 'EXPOSE')!
      .args.split(/\s+/)
      .map(Number);
    const server = modelServer();
    const http = server.ports!.find((p) => p.name === 'http')!.containerPort;
    assert.equal(http, servingPort);
    assert.equal(server.env!.find((e) => e.name === 'PORT')!.value, String(servingPort));
    assert.equal(server.readinessProbe!.httpGet.path, '/v2/health/ready');
    assert.equal(server.livenessProbe!.httpGet.path, '/v2/health/live');
    assert.equal(server.startupProbe!.httpGet.path, '/v2/health/live');
    for (const probe of [server.readinessProbe!, server.livenessProbe!, server.startupProbe!]) assert.equal(probe.httpGet.port, 'http');
    const service = k8sResource('Service', 'perennial-model-server');
    assert.deepEqual(service.spec!.ports, [{ name: 'http', port: servingPort, targetPort: 'http' }]);
    assert.equal(configMap().PERENNIAL_SERVING_URL, `http://perennial-model-server:${servingPort}`);

    // The worker's two metrics endpoints: the ports its settings name are the ones declared and probed.
    const workerMetrics = portOf(configMap().PERENNIAL_WORKER_METRICS);
    const temporalMetrics = portOf(configMap().PERENNIAL_TEMPORAL_METRICS);
    assert.deepEqual(
      worker().ports!.map((p) => [p.name, p.containerPort]),
      [
        ['metrics', workerMetrics],
        ['temporal-metrics', temporalMetrics],
      ],
    );
    assert.equal(worker().livenessProbe!.httpGet.port, 'metrics');
    assert.deepEqual(exposed.sort(), [servingPort, workerMetrics, temporalMetrics].sort());
    const annotations = (name: string) => k8sResource('Deployment', name).spec!.template!.metadata.annotations!;
    assert.equal(annotations('perennial-model-server')['prometheus.io/port'], String(servingPort));
    assert.equal(annotations('perennial-worker')['prometheus.io/port'], String(workerMetrics));

    // Compose: the model server's port and health check, the worker's metrics, and what Prometheus scrapes.
    const services = composeServices();
    const composeServer = services['model-server'];
    assert.equal(Number(composeServer.environment!.PORT), servingPort);
    assert.match(composeServer.healthcheck!.test.join(' '), new RegExp(`:${servingPort}/v2/health/ready`));
    const composeWorker = services.worker.environment!;
    const scrape = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const targets = Object.fromEntries(scrape.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs[0]]));
    assert.deepEqual(targets, {
      'perennial-model-server': { names: ['model-server'], type: 'A', port: servingPort },
      'perennial-worker': { names: ['worker'], type: 'A', port: portOf(String(composeWorker.PERENNIAL_WORKER_METRICS)) },
      'perennial-worker-temporal': { names: ['worker'], type: 'A', port: portOf(String(composeWorker.PERENNIAL_TEMPORAL_METRICS)) },
    });
  });

  it("the image's entrypoint runs files that exist, in folders the Dockerfile copies; compose and k8s use its roles", () => {
    const copied = finalStage()
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .filter((w) => !w.startsWith('--'));
    const entrypoint = read('deploy/entrypoint.sh').replace(/#.*$/gm, '');
    const files = [...entrypoint.matchAll(/\b([\w-]+\/[\w./-]+\.(?:ts|mjs))\b/g)].map((m) => m[1]);
    assert.deepEqual(files, ['worker/main.ts', 'serving/main.ts', 'client/bin.mjs']);
    for (const file of files) {
      assert.ok(existsSync(join(PROJECT_ROOT, file)), file);
      assert.ok(copied.includes(file.split('/')[0]), `${file}: its folder is not copied into the image`);
    }
    assert.deepEqual(roles(), ['worker', 'model-server', 'perennial']);
    assert.deepEqual(JSON.parse(finalStage().find((i) => i.keyword === 'CMD')!.args), ['worker']);
    for (const [service, s] of Object.entries(perennialServices())) assert.ok(roles().includes(s.command![0]), `compose ${service}`);
    for (const c of [modelServer(), worker()]) assert.ok(roles().includes(c.args![0]), c.name);
  });

  it("the Dockerfile's COPY sources exist and .dockerignore lets each through", () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'));
    // Everything is ignored except what is listed with "!": the context is what the image copies.
    assert.equal(ignore[0], '**');
    const allowed = ignore.slice(1).map((line) => {
      assert.match(line, /^!/);
      return line.slice(1).replace(/\/$/, '');
    });
    const sources = dockerfileStages('Dockerfile')
      .flat()
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .filter((w) => !w.startsWith('--'));
    assert.ok(sources.length > 10);
    for (const source of sources) {
      assert.ok(existsSync(join(PROJECT_ROOT, source)), `COPY ${source}: no such file`);
      assert.ok(
        allowed.some((a) => source === a || source.startsWith(`${a}/`)),
        `COPY ${source}: excluded by .dockerignore`,
      );
    }
    // Every folder of code the worker, the model server and the CLI import is copied (bench/, test/, scripts/ are not needed).
    for (const dir of ['activities', 'adapters', 'client', 'codec', 'config', 'core', 'ml', 'serving', 'worker', 'workflows'])
      assert.ok(sources.includes(dir), dir);
  });

  it('the image runs as a numeric non-root user, the one the Kubernetes pods require', () => {
    const user = finalStage().filter((i) => i.keyword === 'USER');
    assert.deepEqual(
      user.map((i) => i.args),
      ['1000:1000'],
    );
    for (const name of ['perennial-model-server', 'perennial-worker']) {
      const pod = k8sResource('Deployment', name).spec!.template!.spec;
      assert.deepEqual(pod.securityContext && [pod.securityContext.runAsNonRoot, pod.securityContext.runAsUser], [true, 1000]);
    }
    // No compiler in the final stage: build tools are installed only before the last FROM.
    assert.doesNotMatch(
      finalStage()
        .map((i) => i.args)
        .join('\n'),
      /apt-get|g\+\+|make=|python3=/,
    );
  });

  it('the model server has a PodDisruptionBudget and the Service selects its pods', () => {
    const labels = k8sResource('Deployment', 'perennial-model-server').spec!.template!.metadata as unknown as {
      labels: Record<string, string>;
    };
    const pdb = k8sResource('PodDisruptionBudget', 'perennial-model-server');
    assert.deepEqual(pdb.spec!.selector!.matchLabels, labels.labels);
    const service = k8sResource('Service', 'perennial-model-server');
    assert.deepEqual(service.spec!.selector, labels.labels);
    assert.equal(k8sResources().filter((r) => r.kind === 'PodDisruptionBudget').length, 1);
  });

  it('Temporal setup creates exactly the search attributes the code upserts', () => {
    const setup = read('deploy/temporal/setup.sh');
    const created = [...setup.matchAll(/--name (\w+) --type (\w+)/g)].flatMap((m) => ['--name', m[1], '--type', m[2]]);
    assert.deepEqual(created, searchAttributeFlags());
  });

  it('the MLflow image pins the mlflow that the tests run against', () => {
    const pinned = /^mlflow==(\S+)$/m.exec(read('scripts/python-requirements.txt'))![1];
    assert.match(read('deploy/mlflow/Dockerfile'), new RegExp(`mlflow==${pinned.replace(/\./g, '\\.')} `));
    assert.equal(composeServices().mlflow.image, `perennial-mlflow:${pinned}`);
  });

  it('the compose services the README names exist', () => {
    const readme = read('README.md');
    const start = readme.indexOf('### Packaging for a cluster');
    assert.ok(start > 0, 'README has no "Packaging for a cluster" subsection');
    const end = readme.indexOf('\n## ', start);
    const section = readme.slice(start, end);
    assert.ok(readme.lastIndexOf('## Running at scale', start) > 0 && end === readme.indexOf('\n## Failure modes and security'));
    // "Services: `a` (with `b`), `c` ... ." up to the end of that sentence.
    const listed = /Services:([\s\S]*?)\.\s/.exec(section)?.[1] ?? '';
    const named = new Set([
      ...[...section.matchAll(/--scale ([\w-]+)=/g)].map((m) => m[1]),
      ...[...section.matchAll(/run --rm ([\w-]+)/g)].map((m) => m[1]),
      ...[...listed.matchAll(/`([a-z][\w-]*)`/g)].map((m) => m[1]),
    ]);
    assert.ok(named.size >= 5, [...named].join(', '));
    const services = Object.keys(composeServices());
    assert.deepEqual(
      [...named].filter((name) => !services.includes(name)),
      [],
    );
  });
});

describe("packaging: the image's file layout runs each role through its entrypoint", () => {
  const image = stageImage();
  const children: ReturnType<typeof runRole>[] = [];
  after(() => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));
  const data = tempDir('perennial-image-data-');
  const common = async () => ({
    MLFLOW_TRACKING_URI: await mlflowUrl(),
    PERENNIAL_DATA_DIR: data,
    PERENNIAL_DB: join(data, 'perennial.sqlite'),
    PERENNIAL_ADMIN_TOKEN: 'packaging-test',
  });

  it('model-server: listens on PORT, answers /v2/health/live and /ready and /metrics, and drains on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const child = runRole(image, ['model-server'], { ...(await common()), HOST: '127.0.0.1', PORT: String(port) });
    children.push(child);
    const done = exited(child);
    await until200(`http://127.0.0.1:${port}/v2/health/live`, child, 120_000);
    const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
    assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /perennial_request_total/);
    child.kill('SIGTERM'); // the entrypoint exec'd node: the signal reaches the server, not a shell
    const { code, signal, output } = await done;
    assert.deepEqual([code, signal], [0, null], output);
    assert.match(output, /draining/);
  });

  it('worker: bundles its workflows, connects to Temporal, serves both metrics endpoints, and stops on SIGTERM', async () => {
    const [metricsPort, temporalPort] = [await freePort(), await freePort()];
    const child = runRole(image, ['worker'], {
      ...(await common()),
      TEMPORAL_ADDRESS: await temporalAddress(),
      // A queue of its own: this worker must not take other test files' tasks.
      PERENNIAL_TASK_QUEUE: `packaging-${process.pid}`,
      PERENNIAL_WORKER_METRICS: `127.0.0.1:${metricsPort}`,
      PERENNIAL_TEMPORAL_METRICS: `127.0.0.1:${temporalPort}`,
    });
    children.push(child);
    const done = exited(child);
    await until200(`http://127.0.0.1:${metricsPort}/metrics`, child, 240_000);
    await until200(`http://127.0.0.1:${temporalPort}/metrics`, child, 30_000);
    child.kill('SIGTERM');
    const { code, signal, output } = await done;
    assert.deepEqual([code, signal], [0, null], output);
    assert.match(output, new RegExp(`polling task queues "packaging-${process.pid}"`));
  });

  it("the image's ENV picks the wasm backend, and it loads from the copied files", async () => {
    const script = "const { loadTf } = await import('./ml/backend.ts'); console.log('backend=' + (await loadTf()).backend);";
    const run = await exited(runRole(image, ['node', '--import', 'tsx', '--input-type=module', '-e', script], await common()));
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /backend=wasm/);
  });

  it('perennial: the CLI answers --help and lists the fleet from Temporal', async () => {
    const env = { ...(await common()), TEMPORAL_ADDRESS: await temporalAddress() };
    const help = await exited(runRole(image, ['perennial', '--help'], env));
    assert.equal(help.code, 0, help.output);
    assert.match(help.output, /Usage: perennial/);
    const list = await exited(runRole(image, ['perennial', 'list', '--json'], env));
    assert.equal(list.code, 0, list.output);
    assert.ok(Array.isArray(JSON.parse(list.output.slice(list.output.indexOf('[')))), list.output);
  });
});
