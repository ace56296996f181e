/**
 * Libraries every cached workflow shares instead of evaluating a copy of its own.
 *
 * The worker's bundle preloads this file (worker/workflow-bundle.ts, `preloadModules`): what it
 * imports is evaluated once in the worker's V8 context, then deep-frozen by the SDK, and every
 * workflow's imports of it resolve to that one copy. Without it zod's ~180 schema constructors
 * are rebuilt for each of the worker's cached workflows. Only stateless libraries belong here;
 * schemas stay per workflow, built on first use (core/lazy-schema.ts).
 */
import { z } from 'zod';

// zod installs its default locale when it builds its first schema and its default memoizer when
// it builds its first container (object, array, union...); build one of those now, before the SDK
// freezes that config, or the first workflow to build a schema fails on the frozen object.
// Exported so webpack keeps it: zod declares itself free of side effects, and an unused import of
// it would be dropped. (Exporting all of `z` would bundle every module of zod, locales included,
// where the schemas use a fifth of them.)
export const zodDefaults = z.object({ value: z.unknown() });
