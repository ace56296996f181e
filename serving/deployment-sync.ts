/**
 * Replicas: every model server sharing a store serves what the store says is deployed, whichever
 * process changed it (another replica's admin endpoint, the worker's deploy activity). Two ways
 * to learn of a change, so that one failing does not leave a replica serving an old deployment:
 * - a push: the store's watchDeployments (Postgres LISTEN/NOTIFY), within milliseconds;
 * - a poll of listDeployments every `pollMs`, which also covers notices lost while the
 *   listening connection was down, and is the only way with SQLite.
 * Applying a change goes through LiveDeployments.follow: the new versions load before the switch,
 * and a version that fails to load leaves the old deployment serving. A failed change is retried
 * on its next notice, and by the poll after RETRY_POLLS polls (not every poll: a version that
 * cannot load would fill the log once a second).
 *
 * Settings from the environment:
 *   PERENNIAL_DEPLOYMENT_LISTEN    'off' to rely on the poll alone (default on)
 *   PERENNIAL_DEPLOYMENT_POLL_MS   how often the poll reads the deployments (default 1000)
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../adapters/store/index.ts';
import type { LiveDeployments } from './deployments.ts';

export interface DeploymentSyncSettings {
  listen: boolean;
  pollMs: number;
}

export const DEFAULT_DEPLOYMENT_SYNC: DeploymentSyncSettings = { listen: true, pollMs: 1000 };
const RETRY_POLLS = 10;

export function deploymentSyncFromEnv(env: NodeJS.ProcessEnv = process.env): DeploymentSyncSettings {
  const listen = env.PERENNIAL_DEPLOYMENT_LISTEN?.trim().toLowerCase() || 'on';
  if (listen !== 'on' && listen !== 'off') throw new RangeError(`PERENNIAL_DEPLOYMENT_LISTEN=${listen}: expected on or off`);
  const poll = env.PERENNIAL_DEPLOYMENT_POLL_MS?.trim();
  const pollMs = poll ? Number(poll) : DEFAULT_DEPLOYMENT_SYNC.pollMs;
  if (!Number.isFinite(pollMs) || pollMs < 10) throw new RangeError(`PERENNIAL_DEPLOYMENT_POLL_MS=${poll}: expected a number >= 10`);
  return { listen: listen === 'on', pollMs };
}

export interface DeploymentSyncOptions {
  store: Store;
  deployments: LiveDeployments;
  settings: DeploymentSyncSettings;
  log: FastifyBaseLogger;
  /** Each change followed, or not (its version failed to load): for the metrics. */
  followed: (model: string, ok: boolean) => void;
}

/** Starts following the store's deployments; the function it returns stops (and waits for a change in progress). */
export async function followDeployments({
  store,
  deployments,
  settings,
  log,
  followed,
}: DeploymentSyncOptions): Promise<() => Promise<void>> {
  const inFlight = new Set<Promise<void>>();
  /** Changes that failed to load: the deployment's updatedAt, and the polls left before the poll retries it. */
  const failed = new Map<string, { updatedAt: string; pollsLeft: number }>();
  let stopped = false;

  const follow = (model: string) => {
    const change = deployments.follow(model).then(
      (changed) => {
        failed.delete(model);
        if (!changed) return;
        followed(model, true);
        log.info({ model, state: deployments.state(model) }, 'deployment changed elsewhere: now serving it');
      },
      async (err: Error) => {
        const stored = await store.getDeployment(model).catch(() => undefined);
        failed.set(model, { updatedAt: stored?.updatedAt ?? '', pollsLeft: RETRY_POLLS });
        followed(model, false);
        log.error({ model }, `deployment changed elsewhere, not followed (the old one keeps serving): ${err.message}`);
      },
    );
    inFlight.add(change);
    void change.finally(() => inFlight.delete(change));
  };

  let polling = false;
  const poll = async () => {
    if (polling || stopped) return;
    polling = true;
    try {
      for (const { model, ...state } of await store.listDeployments()) {
        if (deployments.serves(model, state)) continue;
        const failure = failed.get(model);
        if (failure?.updatedAt === state.updatedAt && --failure.pollsLeft > 0) continue;
        follow(model);
      }
    } catch (err) {
      log.error(`deployments poll failed: ${(err as Error).message}`);
    } finally {
      polling = false;
    }
  };

  let stopListening = async () => {};
  if (settings.listen) {
    try {
      stopListening = await store.watchDeployments((model) => {
        if (stopped) return;
        if (model === undefined) void poll();
        else follow(model);
      });
    } catch (err) {
      log.error(`deployment notices unavailable, polling every ${settings.pollMs} ms: ${(err as Error).message}`);
    }
  }
  // A change made between restore() and listening is found now, not a poll later.
  void poll();
  const timer = setInterval(() => void poll(), settings.pollMs);
  timer.unref();

  return async () => {
    stopped = true;
    clearInterval(timer);
    await stopListening();
    await Promise.all(inFlight);
  };
}
