/**
 * API keys for predict and feedback, per model. A key is 32 random bytes (base64url with a
 * `pk_` prefix) shown once when created; the store keeps only its SHA-256, which is enough
 * for a key of that entropy (a slow hash guards guessable passwords, not random keys).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiKeyRequiredError } from '../core/errors.ts';
import { ANONYMOUS, type Store } from '../adapters/store/index.ts';

export function newApiKey(): string {
  return `pk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Who is calling `model`'s predict or feedback: the name of a valid key sent as
 * "Authorization: Bearer <key>", or 'anonymous' when the model has no keys and none was sent.
 * A key that is not valid for the model is refused even where anonymous calls are allowed:
 * the caller meant to identify itself and would otherwise be recorded as anonymous.
 */
export function callerOf(request: FastifyRequest, store: Store, model: string): string {
  const header = request.headers.authorization;
  if (header === undefined) {
    if (store.requiresApiKey(model)) throw new ApiKeyRequiredError(model, 'missing');
    return ANONYMOUS;
  }
  const match = /^Bearer (\S+)$/.exec(header);
  const name = match ? store.apiKeyName(model, hashApiKey(match[1])) : undefined;
  if (name === undefined) throw new ApiKeyRequiredError(model, match ? 'invalid' : 'malformed');
  return name;
}
