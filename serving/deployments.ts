/**
 * The deployments this server process serves: for each model the persisted state plus the
 * loaded predictors of its champion, canary and shadow. Changes are set-state and all-or-nothing:
 * every named version loads before anything switches, the store is written next, and only
 * then does the in-memory swap happen, in one synchronous step, so a request sees either the
 * old deployment or the new one. A shadow is loaded like the others when deployed; one that
 * fails to load when the server restarts is left out (and reported) instead of taking the
 * model out of service, since nobody is answered by it.
 */
import type { Predictor } from '../ml/bundle.ts';
import { DeploymentFailedError, DeploymentUnavailableError, NoDeploymentError, VersionNotDeployedError } from '../core/errors.ts';
import type { DeploymentState, Role, Store } from '../adapters/store/index.ts';
import { routesToChallenger } from '../core/sticky-assignment.ts';
import { anyRows, rowReader, type RowReader } from './rows.ts';

export type ModelLoader = (model: string, version: string) => Promise<Predictor>;

export interface DesiredDeployment {
  champion: { version: string };
  canary?: { version: string; weight: number };
  shadow?: { version: string };
  reason: string;
}

/** A deployment as served: its state, and why its shadow is not running when it could not be loaded. */
export type ServedDeployment = DeploymentState & { shadow?: { version: string; unavailable?: string } };

export interface Target {
  version: string;
  role: Role;
  predictor: Predictor;
  /** Features every version of the deployment needs, so validity never depends on the routing draw. */
  features: string[];
}

interface Live {
  state: DeploymentState;
  predictors: Map<string, Predictor>; // by version
  features: string[];
  /** Why the shadow named by state did not load at restore. */
  shadowUnavailable?: string;
  /** Built once per deployment for its features. */
  readRows: RowReader;
}

export class LiveDeployments {
  private readonly live = new Map<string, Live>();
  /** Persisted deployments whose versions failed to load at startup, with the reason. */
  private readonly unavailable = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly load: ModelLoader,
  ) {}

  /**
   * Loads every persisted deployment; a model that fails stays unavailable (503) until redeployed.
   * A shadow that fails is reported and left out.
   */
  async restore(): Promise<Array<{ model: string; error: string }>> {
    const failures: Array<{ model: string; error: string }> = [];
    await Promise.all(
      (await this.store.listDeployments()).map(async ({ model, ...state }) => {
        try {
          const predictors = await this.loadAll(model, servedVersions(state));
          const shadow = state.shadow && (await this.loadShadow(model, state.shadow.version));
          if (shadow instanceof Error) failures.push({ model, error: `shadow left out: ${shadow.message}` });
          else if (shadow) predictors.set(state.shadow!.version, shadow);
          this.install(model, state, predictors, shadow instanceof Error ? shadow.message : undefined);
        } catch (err) {
          const error = (err as Error).message;
          this.unavailable.set(model, error);
          failures.push({ model, error });
        }
      }),
    );
    return failures;
  }

  /**
   * Chooses the version for one request: the canary with probability = its weight. A request with
   * a routing key is placed by the key instead (salted with the canary's version), so the same key
   * gets the same version for as long as that canary runs, and keeps it when the weight steps up.
   */
  pick(model: string, routingKey?: string): Target {
    const live = this.require(model);
    const { champion, canary } = live.state;
    const toCanary =
      canary !== undefined &&
      (routingKey === undefined ? Math.random() < canary.weight : routesToChallenger(routingKey, canary.version, canary.weight));
    const [version, role]: [string, Role] = toCanary ? [canary.version, 'canary'] : [champion.version, 'champion'];
    return { version, role, predictor: live.predictors.get(version)!, features: live.features };
  }

  /** The model's shadow, when it names one that is running. Use it synchronously: a redeploy disposes it. */
  shadow(model: string): { version: string; predictor: Predictor } | undefined {
    const live = this.live.get(model);
    const version = live?.state.shadow?.version;
    const predictor = version === undefined ? undefined : live!.predictors.get(version);
    return predictor && { version: version!, predictor };
  }

  /** A version the deployment serves (champion or canary) for a request that names it: no routing draw. */
  target(model: string, version: string): Target {
    const live = this.require(model);
    // The shadow's predictor is loaded too, but a request never reaches it by name.
    const predictor = versionsOf(live.state).includes(version) ? live.predictors.get(version) : undefined;
    if (!predictor) throw new VersionNotDeployedError(model, version, versionsOf(live.state));
    const role: Role = version === live.state.champion.version ? 'champion' : 'canary';
    return { version, role, predictor, features: predictor.features };
  }

  /** Every version the deployment serves, champion first, each with the features of the whole deployment. */
  targets(model: string): Target[] {
    const live = this.require(model);
    return versionsOf(live.state).map((version) => ({ ...this.target(model, version), features: live.features }));
  }

  /**
   * Reads a predict request's rows for the model's current deployment, and the features they were
   * checked for. A model that is not deployed gets the checks that need no features (its 404
   * comes from pick), so a malformed body is a 400 whether or not the model is deployed.
   */
  readRows(model: string, body: unknown): { rows: ReturnType<RowReader>; features: string[] } {
    const live = this.live.get(model);
    return live ? { rows: live.readRows(body), features: live.features } : { rows: anyRows(body), features: [] };
  }

  state(model: string): ServedDeployment {
    const { state, shadowUnavailable } = this.require(model);
    return shadowUnavailable ? { ...state, shadow: { ...state.shadow!, unavailable: shadowUnavailable } } : state;
  }

  list(): Array<{ model: string } & DeploymentState> {
    return [...this.live].map(([model, { state }]) => ({ model, ...state })).sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Whether this server has a deployment of the model, served or failed to restore: a bounded set of names. */
  has(model: string): boolean {
    return this.live.has(model) || this.unavailable.has(model);
  }

  unavailableModels(): Record<string, string> {
    return Object.fromEntries(this.unavailable);
  }

  /**
   * Set-state. Asking for what is already served changes nothing (same updatedAt and reason),
   * so callers such as retrying activities may repeat it freely.
   */
  apply(model: string, desired: DesiredDeployment): Promise<{ state: DeploymentState; changed: boolean }> {
    return this.oneAtATime(async () => {
      const current = this.live.get(model);
      // Another replica may have changed the deployment since: "already served" is judged against the store.
      const stored = await this.store.getDeployment(model);
      const upToDate = stored !== undefined && this.serves(model, stored);
      // A shadow that failed to load at restore is retried by deploying the same state again.
      if (current && upToDate && !current.shadowUnavailable && sameTargets(current.state, desired))
        return { state: current.state, changed: false };
      const state: DeploymentState = { ...desired, updatedAt: new Date().toISOString() };
      await this.switchTo(model, state, () => this.store.setDeployment(model, state));
      return { state, changed: true };
    });
  }

  /**
   * Serves what the store says the model's deployment is now, when another process (a replica,
   * the worker) changed it: the new versions load first, then the switch (serving/deployment-sync.ts).
   * Returns whether anything changed; a version that fails to load rejects and the old deployment stays.
   */
  follow(model: string): Promise<boolean> {
    return this.oneAtATime(async () => {
      const stored = await this.store.getDeployment(model);
      if (!stored || this.serves(model, stored)) return false;
      await this.switchTo(model, stored, async () => {});
      return true;
    });
  }

  /** Whether the model's served deployment is `state`, down to when and why it was made. */
  serves(model: string, state: DeploymentState): boolean {
    const current = this.live.get(model)?.state;
    return current !== undefined && sameTargets(current, state) && current.updatedAt === state.updatedAt && current.reason === state.reason;
  }

  /** One change at a time: two interleaved changes could persist one state and serve the other. */
  private oneAtATime<T>(change: () => Promise<T>): Promise<T> {
    const result = this.queue.then(change);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Loads the versions `state` needs that are not loaded, runs `persist`, then swaps in one synchronous step. */
  private async switchTo(model: string, state: DeploymentState, persist: () => Promise<void>): Promise<void> {
    const current = this.live.get(model);
    const reused = new Map<string, Predictor>();
    const missing: string[] = [];
    for (const version of versionsOf(state)) {
      const predictor = current?.predictors.get(version);
      if (predictor) reused.set(version, predictor);
      else missing.push(version);
    }
    const loaded = await this.loadAll(model, missing);
    try {
      await persist();
    } catch (err) {
      for (const predictor of loaded.values()) predictor.dispose();
      throw err;
    }
    this.install(model, state, new Map([...reused, ...loaded]));
  }

  /** Disposes every predictor; the server is going away. */
  close(): void {
    for (const live of this.live.values()) for (const predictor of live.predictors.values()) predictor.dispose();
    this.live.clear();
  }

  private require(model: string): Live {
    const live = this.live.get(model);
    if (live) return live;
    const reason = this.unavailable.get(model);
    throw reason === undefined ? new NoDeploymentError(model) : new DeploymentUnavailableError(model, reason);
  }

  /** Loads in parallel; if any version fails, disposes the ones that loaded and throws. */
  private async loadAll(model: string, versions: string[]): Promise<Map<string, Predictor>> {
    const results = await Promise.allSettled(
      versions.map(async (version) => {
        try {
          return await this.load(model, version);
        } catch (err) {
          throw new DeploymentFailedError(model, version, err);
        }
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      for (const r of results) if (r.status === 'fulfilled') r.value.dispose();
      throw failed.reason;
    }
    return new Map(versions.map((version, i) => [version, (results[i] as PromiseFulfilledResult<Predictor>).value]));
  }

  /** The shadow's predictor, or the error that kept it from loading. */
  private async loadShadow(model: string, version: string): Promise<Predictor | Error> {
    try {
      return await this.load(model, version);
    } catch (err) {
      return err as Error;
    }
  }

  private install(model: string, state: DeploymentState, predictors: Map<string, Predictor>, shadowUnavailable?: string): void {
    const previous = this.live.get(model);
    // The shadow's features are not asked of clients: what they must send does not change with it.
    const features = [...new Set(servedVersions(state).flatMap((version) => predictors.get(version)!.features))];
    this.live.set(model, { state, predictors, features, readRows: rowReader(features), shadowUnavailable });
    this.unavailable.delete(model);
    // Predictors are synchronous and picked only when a batch runs, so no request can still be using one dropped here.
    for (const [version, predictor] of previous?.predictors ?? []) if (!predictors.has(version)) predictor.dispose();
  }
}

/** The versions that answer requests. */
function servedVersions(state: DesiredDeployment): string[] {
  return state.canary ? [state.champion.version, state.canary.version] : [state.champion.version];
}

function versionsOf(state: DesiredDeployment): string[] {
  return state.shadow ? [...servedVersions(state), state.shadow.version] : servedVersions(state);
}

function sameTargets(a: DesiredDeployment, b: DesiredDeployment): boolean {
  return (
    a.champion.version === b.champion.version &&
    a.canary?.version === b.canary?.version &&
    a.canary?.weight === b.canary?.weight &&
    a.shadow?.version === b.shadow?.version
  );
}
