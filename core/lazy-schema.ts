/**
 * Schemas that workflow code reaches are built on first use, not when their module loads.
 *
 * Why: the worker's reusable V8 context evaluates the workflow bundle's modules once per cached
 * workflow, so a schema declared at module level is built again for every model the worker
 * holds, and a zod schema tree is dozens of objects and closures. The messages these schemas
 * check (reviews, rollbacks, policy changes, permit requests) are rare; a lifecycle that never
 * receives one never builds them. Measured in the README ("What a fleet costs").
 */
import { z } from 'zod';

/** `z.lazy` over a builder that runs once, whoever asks first (zod's parse or a walker of its definition). */
export function builtOnFirstUse<S extends z.ZodType>(build: () => S): z.ZodLazy<S> {
  let schema: S | undefined;
  return z.lazy(() => (schema ??= build()));
}
