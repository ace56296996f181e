/**
 * A gbdt trial's hyperparameters from its configuration: family defaults filled in (LightGBM's,
 * ml/gbdt/params.ts) and every value checked there, with errors that name the parameter. A
 * categorical search dimension may yield numbers as text; they are read as numbers.
 */
import type { ParamValue } from '../../core/search-space.ts';
import { GBDT_DEFAULTS, validateParams, type GbdtParams } from './params.ts';

export function resolveGbdtParams(params: Record<string, ParamValue>): GbdtParams {
  const asGiven = (name: keyof GbdtParams, raw: ParamValue | undefined) => {
    if (raw === undefined) return GBDT_DEFAULTS[name];
    const numeric = typeof GBDT_DEFAULTS[name] === 'number' && typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw));
    return numeric ? Number(raw) : raw;
  };
  const names = Object.keys(GBDT_DEFAULTS) as Array<keyof GbdtParams>;
  return validateParams(Object.fromEntries(names.map((name) => [name, asGiven(name, params[name])])) as unknown as GbdtParams);
}
