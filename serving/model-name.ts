import { z } from 'zod';

/** How a model may be named in a route: what the spec allows (core/spec.ts). */
export const ModelName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'model names are lower-case letters, digits and dashes');
