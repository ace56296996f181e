/**
 * A gbdt trial's hyperparameters from its configuration: family defaults filled in (LightGBM's,
 * see GBDT_DEFAULTS) and every value checked, with errors that name the parameter, like
 * resolveConfig does for the networks (ml/model.ts).
 */
import type { ParamValue } from '../../core/search-space.ts';
import { GBDT_DEFAULTS, type GbdtParams } from './booster.ts';

const GROWTHS = ['leafwise', 'depthwise'] as const;

export function resolveGbdtParams(params: Record<string, ParamValue>): GbdtParams {
  const get = (name: keyof GbdtParams): ParamValue => params[name] ?? GBDT_DEFAULTS[name];
  const num = (name: keyof GbdtParams, ok: (v: number) => boolean, rule: string): number => {
    const raw = get(name);
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(v) || !ok(v)) throw new Error(`gbdt.${name} must be ${rule}, got ${JSON.stringify(raw)}`);
    return v;
  };
  const int = (name: keyof GbdtParams, min: number) => num(name, (v) => Number.isInteger(v) && v >= min, `an integer >= ${min}`);
  const fraction = (name: keyof GbdtParams) => num(name, (v) => v > 0 && v <= 1, 'in (0, 1]');
  const growth = get('growth');
  if (typeof growth !== 'string' || !(GROWTHS as readonly string[]).includes(growth)) {
    throw new Error(`gbdt.growth must be one of ${GROWTHS.join(', ')}, got ${JSON.stringify(growth)}`);
  }
  return {
    growth: growth as GbdtParams['growth'],
    numLeaves: int('numLeaves', 2),
    maxDepth: int('maxDepth', 0),
    learningRate: num('learningRate', (v) => v > 0, 'a number > 0'),
    minDataInLeaf: int('minDataInLeaf', 1),
    minSumHessianInLeaf: num('minSumHessianInLeaf', (v) => v >= 0, 'a number >= 0'),
    lambdaL1: num('lambdaL1', (v) => v >= 0, 'a number >= 0'),
    lambdaL2: num('lambdaL2', (v) => v >= 0, 'a number >= 0'),
    minGainToSplit: num('minGainToSplit', (v) => v >= 0, 'a number >= 0'),
    featureFraction: fraction('featureFraction'),
    baggingFraction: fraction('baggingFraction'),
    baggingFreq: int('baggingFreq', 0),
    maxBins: num('maxBins', (v) => Number.isInteger(v) && v >= 2 && v <= 65535, 'an integer in [2, 65535]'),
  };
}
