/**
 * API keys for predict and feedback, per model. A key is 32 random bytes (base64url with a
 * `pk_` prefix) shown once when created; the store keeps only its SHA-256, which is enough
 * for a key of that entropy (a slow hash guards guessable passwords, not random keys).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiKeyRequiredError } from '../core/errors.ts';
import { ANONYMOUS, type ApiKeyInfo, type Store } from '../adapters/store/index.ts';

export function newApiKey(): string {
  return `pk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The model server's view of the api_keys table, cached: without the cache every predict paid
 * two SQL queries for its key check. This server's admin routes (`add`, `revoke`) drop the
 * model's cache entry before they answer, so a key revoked here is refused from the next request
 * on. Another server process on the same database (a replacement starting, a replica) revokes
 * behind this cache's back, so a model's entry is also read again once it is `maxAgeMs` old: such
 * a revocation takes effect within that. Only valid keys are cached: a stream of made-up keys
 * cannot grow the cache.
 */
export class ApiKeys {
  private readonly models = new Map<string, { required: boolean; names: Map<string, string>; readAt: number }>();
  /** Counts add and revoke: a read that an add or revoke overtook is not cached (it may predate the change). */
  private changes = 0;

  constructor(
    private readonly store: Store,
    private readonly maxAgeMs = 1000,
  ) {}

  /**
   * Who is calling `model`'s predict or feedback: the name of a valid key sent as
   * "Authorization: Bearer <key>", or 'anonymous' when the model has no keys and none was sent.
   * A key that is not valid for the model is refused even where anonymous calls are allowed:
   * the caller meant to identify itself and would otherwise be recorded as anonymous.
   */
  async callerOf(request: FastifyRequest, model: string): Promise<string> {
    const header = request.headers.authorization;
    const cached = await this.cacheOf(model);
    if (header === undefined) {
      if (cached.required) throw new ApiKeyRequiredError(model, 'missing');
      return ANONYMOUS;
    }
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) throw new ApiKeyRequiredError(model, 'malformed');
    const hash = hashApiKey(match[1]);
    const name = cached.names.get(hash) ?? (await this.store.apiKeyName(model, hash));
    if (name === undefined) throw new ApiKeyRequiredError(model, 'invalid');
    cached.names.set(hash, name);
    return name;
  }

  /** A new key named `name` for `model`, or undefined when the model already has a key of that name. */
  async add(model: string, name: string): Promise<string | undefined> {
    const key = newApiKey();
    const added = await this.store.addApiKey(model, name, hashApiKey(key));
    this.changes++;
    this.models.delete(model);
    return added ? key : undefined;
  }

  async revoke(model: string, name: string): Promise<ApiKeyInfo | undefined> {
    const revoked = await this.store.revokeApiKey(model, name);
    this.changes++;
    this.models.delete(model);
    return revoked;
  }

  private async cacheOf(model: string) {
    let cached = this.models.get(model);
    const now = performance.now();
    if (!cached || now - cached.readAt > this.maxAgeMs) {
      const changes = this.changes;
      cached = { required: await this.store.requiresApiKey(model), names: new Map(), readAt: now };
      if (changes === this.changes) this.models.set(model, cached);
    }
    return cached;
  }
}
