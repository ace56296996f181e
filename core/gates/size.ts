/**
 * The size gate: the challenger's parameter count and serialized size (weights and topology)
 * against absolute limits and against the champion's parameter count.
 *
 * PURE module.
 */
import type { z } from 'zod';
import type { SizeGate } from './spec.ts';
import { gateMetricKey, limitChecks, num, type GateResult } from './result.ts';

export type SizeSettings = z.infer<typeof SizeGate>;

export interface ModelSize {
  params: number;
  bytes: number;
}

export function judgeSize(settings: SizeSettings, challenger: ModelSize, champion?: ModelSize): GateResult {
  const key = (name: string) => gateMetricKey('size', name);
  const metrics: Record<string, number> = { [key('challenger.params')]: challenger.params, [key('challenger.bytes')]: challenger.bytes };
  const checks = limitChecks();
  checks.atMost('parameters', challenger.params, 'maxParams', settings.maxParams);
  checks.atMost('bytes', challenger.bytes, 'maxBytes', settings.maxBytes);
  if (champion) {
    const ratio = champion.params > 0 ? challenger.params / champion.params : Infinity;
    Object.assign(metrics, { [key('champion.params')]: champion.params, [key('champion.bytes')]: champion.bytes });
    if (Number.isFinite(ratio)) metrics[key('ratio_to_champion')] = ratio;
    checks.atMost("parameters / champion's", ratio, 'maxRatioToChampion', settings.maxRatioToChampion);
  } else if (settings.maxRatioToChampion !== undefined) checks.lines.push('no champion: maxRatioToChampion not judged');
  return {
    gate: 'size',
    passed: checks.passed,
    lines: [
      `challenger ${num(challenger.params)} parameters, ${num(challenger.bytes)} bytes; ${
        champion ? `champion ${num(champion.params)} parameters, ${num(champion.bytes)} bytes` : 'no champion'
      }`,
      ...checks.lines,
    ],
    metrics,
  };
}
