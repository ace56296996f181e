/**
 * The optional `routingKey` of a prediction request: who the request is for (a user, a session).
 * With one, the champion/canary draw is sticky (core/sticky-assignment.ts): the same key is
 * answered by the same model for the whole canary or A/B test, and stays with the canary when its
 * weight steps up. Without one, each request is drawn at random. The key only routes: it is not
 * logged.
 */
import { InvalidRequestError } from '../core/errors.ts';

export const MAX_ROUTING_KEY_LENGTH = 256;

/**
 * The `routingKey` of `container` (the /v1 body, or a /v2 request's parameters), or undefined when
 * it has none; an InvalidRequestError naming `field` when it is not a string of 1 to 256 characters.
 */
export function routingKeyOf(container: unknown, field: string, what = 'request body'): string | undefined {
  const key = typeof container === 'object' && container !== null ? (container as { routingKey?: unknown }).routingKey : undefined;
  if (key === undefined) return undefined;
  if (typeof key === 'string' && key.length >= 1 && key.length <= MAX_ROUTING_KEY_LENGTH) return key;
  throw new InvalidRequestError(
    `invalid ${what}:\n  - ${field}: a string of 1 to ${MAX_ROUTING_KEY_LENGTH} characters that names who the request is for (a user or session id), not ${describe(key)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length ? `${value.length} characters` : 'an empty string';
  return value === null ? 'null' : `a ${typeof value}`;
}
