/**
 * Checks a spec sent to a running lifecycle (the `updateSpec` update): the workflow bundle has no
 * spec schemas (they are large and each cached workflow would hold its own copy), so the worker
 * validates it here, in its main thread, and the workflow takes only a spec that passed.
 */
import { formatIssues, ModelSpec } from '../core/spec.ts';

export type SpecCheck = { ok: true; spec: ModelSpec } | { ok: false; problems: string };

export function specCheckActivities() {
  return {
    async checkSpec(input: { spec: unknown }): Promise<SpecCheck> {
      const parsed = ModelSpec.safeParse(input.spec);
      return parsed.success ? { ok: true, spec: parsed.data } : { ok: false, problems: formatIssues(parsed.error) };
    },
  };
}
