/**
 * Grid search: every combination of a family and its parameters' grid values, each once, in an
 * order shuffled by the seed (so a budget smaller than the grid still spreads over the whole
 * space instead of sweeping one corner). Past the end of the grid the same order repeats.
 *
 * The grid is never materialised: a point is decoded from its index, and the shuffle is a
 * Fisher-Yates that runs only as far as the trial index, remembering just the swapped slots.
 */
import type { ParamSpec, ParamValue, SweepFamily, SweepSpec, TrialConfig } from '../search-space.ts';
import { derive } from '../stats/rng.ts';
import { familiesOf, searchedParams, STREAM } from './space.ts';

const DEFAULT_GRID_POINTS = 3;

/** A parameter's grid values: categorical values as listed; ranges as `points` steps from low to high. */
export function gridValues(p: ParamSpec, points: number): ParamValue[] {
  if (p.type === 'categorical') return [...new Set(p.values)];
  const values = Array.from({ length: points }, (_, k) => {
    // The ends are exact, not exp(log(low)), so they never stray outside [low, high].
    if (k === 0) return p.low;
    if (k === points - 1) return p.high;
    const f = k / (points - 1);
    const v = p.log ? Math.exp(Math.log(p.low) + f * (Math.log(p.high) - Math.log(p.low))) : p.low + f * (p.high - p.low);
    return p.type === 'int' ? Math.round(v) : v;
  });
  return [...new Set(values)]; // rounding can merge points of a narrow int range
}

interface FamilyBlock {
  family: SweepFamily;
  axes: [string, ParamValue[]][];
  size: number;
}

function blocks(sweep: SweepSpec): FamilyBlock[] {
  const points = sweep.gridPoints ?? DEFAULT_GRID_POINTS;
  return familiesOf(sweep).map((family) => {
    const axes = searchedParams(sweep, family).map(([name, spec]): [string, ParamValue[]] => [name, gridValues(spec, points)]);
    return { family, axes, size: axes.reduce((n, [, values]) => n * values.length, 1) };
  });
}

/** Number of distinct grid points: the sum over families of the product of their axes. */
export function gridSize(sweep: SweepSpec): number {
  return blocks(sweep).reduce((n, b) => n + b.size, 0);
}

/** Grid point `index` in canonical order: families in FAMILIES order, the last axis varying fastest. */
function pointAt(grid: FamilyBlock[], index: number): TrialConfig {
  let rest = index;
  let b = 0;
  while (rest >= grid[b].size) rest -= grid[b++].size;
  const { family, axes } = grid[b];
  const picks = new Array<ParamValue>(axes.length);
  for (let a = axes.length - 1; a >= 0; a--) {
    const values = axes[a][1];
    picks[a] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return { family, params: Object.fromEntries(axes.map(([name], a) => [name, picks[a]])) };
}

/** Entry `position` of a seeded uniform permutation of [0, size): a partial Fisher-Yates. */
function shuffledIndex(seed: number, size: number, position: number): number {
  const rng = derive(seed, STREAM.gridOrder);
  const moved = new Map<number, number>();
  const slot = (k: number) => moved.get(k) ?? k;
  let picked = 0;
  for (let j = 0; j <= position; j++) {
    const r = rng.int(j, size - 1);
    picked = slot(r);
    moved.set(r, slot(j));
  }
  return picked;
}

export function proposeGrid(sweep: SweepSpec, trialIndex: number): TrialConfig {
  const grid = blocks(sweep);
  const size = grid.reduce((n, b) => n + b.size, 0);
  return pointAt(grid, shuffledIndex(sweep.seed, size, trialIndex % size));
}
