/**
 * Real tabular tasks from the npm package vega-datasets for the automl benchmark, each as
 * model-spec features + label + rows in a fixed order.
 *
 * Perennial's snapshot split (activities/data.ts splitSnapshot) makes the LAST holdoutFraction
 * of the rows the holdout. None of these files is a time series we want to forecast, so the rows
 * are shuffled once with a fixed seed before import: the holdout is then a random 20%, the same
 * for Perennial and for scikit-learn (which reads the split Perennial computes).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readRows, type Row } from '../../client/dataset.ts';
import type { FeatureSpec, LabelSpec } from '../../core/spec.ts';
import { shuffled } from '../../activities/data.ts';
import { derive } from '../../core/stats/rng.ts';

export const VEGA_DATA = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data');
export const HOLDOUT_FRACTION = 0.2;
/** Seeds the import order (and so which rows are holdout); unrelated to sweep seeds. */
const ORDER_SEED = 20240607;

export interface Task {
  /** Model name in Perennial (store records, MLflow experiment perennial/<name>). */
  name: string;
  source: string;
  features: FeatureSpec[];
  label: LabelSpec;
  rows: Row[];
  /** The share of rows (the last ones) held out; HOLDOUT_FRACTION when absent. */
  holdoutFraction?: number;
  /** How the raw file became these rows, for the report. */
  notes: string;
}

/** weather.csv: daily weather of Seattle and New York 2012-2015. */
export function weatherTask(): Task {
  const rows = shuffled(readRows(join(VEGA_DATA, 'weather.csv')), ORDER_SEED);
  return {
    name: 'automl-weather',
    source: 'vega-datasets/data/weather.csv',
    features: [
      { name: 'precipitation', type: 'number' },
      { name: 'temp_max', type: 'number' },
      { name: 'temp_min', type: 'number' },
      { name: 'wind', type: 'number' },
      { name: 'location', type: 'category', values: distinct(rows, 'location') },
    ],
    label: { name: 'weather', type: 'category', classes: distinct(rows, 'weather') },
    rows,
    notes: `${rows.length} rows, as in the file`,
  };
}

/** penguins.json: Palmer penguins, species from body measurements, island and sex. */
export function penguinsTask(): Task {
  const raw = readRows(join(VEGA_DATA, 'penguins.json'));
  // Sex is "MALE", "FEMALE", null or (once) "."; "." is a missing value in the original data.
  const rows = shuffled(
    raw.filter((r) => r.Species != null).map((r) => ({ ...r, Sex: r.Sex === 'MALE' || r.Sex === 'FEMALE' ? r.Sex : null })),
    ORDER_SEED,
  );
  const numbers = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
  return {
    name: 'automl-penguins',
    source: 'vega-datasets/data/penguins.json',
    features: [
      ...numbers.map((name) => ({ name, type: 'number' as const })),
      { name: 'Island', type: 'category', values: distinct(rows, 'Island') },
      { name: 'Sex', type: 'category', values: ['FEMALE', 'MALE'] },
    ],
    label: { name: 'Species', type: 'category', classes: distinct(rows, 'Species') },
    rows,
    notes: `${rows.length} of ${raw.length} rows (rows without Species dropped); Sex "." treated as missing; missing numbers imputed with the training mean, missing Sex as no category (both sides)`,
  };
}

const TOP_AIRPORTS = 20;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * flights-10k.json: US flights of January-March 2001. Label `delayed` (arrival delay > 15 min)
 * vs `on-time`. Features: distance, scheduled departure hour (fractional), weekday, and origin
 * and destination limited to the 20 most frequent airports among the NON-holdout rows (counted
 * without labels, so nothing of the holdout leaks); every other airport becomes "other".
 */
export function flightsTask(): Task {
  const file = 'flights-10k.json';
  const raw = shuffled(readRows(join(VEGA_DATA, file)), ORDER_SEED);
  const fit = raw.slice(0, raw.length - Math.max(1, Math.round(raw.length * HOLDOUT_FRACTION)));
  const top = (key: string) => {
    const counts = new Map<string, number>();
    for (const r of fit) counts.set(String(r[key]), (counts.get(String(r[key])) ?? 0) + 1);
    return [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_AIRPORTS)
      .map(([k]) => k);
  };
  const origins = top('origin');
  const destinations = top('destination');
  const rows = raw.map((r) => {
    // "2001/01/01 00:47": local scheduled departure; Date.UTC keeps the weekday free of the machine's time zone.
    const [, y, mo, d, h, mi] = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+)$/.exec(String(r.date))!.map(Number);
    return {
      distance: r.distance,
      hour: h + mi / 60,
      weekday: WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()],
      origin: origins.includes(String(r.origin)) ? r.origin : 'other',
      destination: destinations.includes(String(r.destination)) ? r.destination : 'other',
      delayed: Number(r.delay) > 15 ? 'delayed' : 'on-time',
    };
  });
  return {
    name: 'automl-flights',
    source: `vega-datasets/data/${file}`,
    features: [
      { name: 'distance', type: 'number' },
      { name: 'hour', type: 'number' },
      { name: 'weekday', type: 'category', values: WEEKDAYS },
      { name: 'origin', type: 'category', values: [...origins, 'other'] },
      { name: 'destination', type: 'category', values: [...destinations, 'other'] },
    ],
    label: { name: 'delayed', type: 'category', classes: ['delayed', 'on-time'] },
    rows,
    notes: `${rows.length} rows; delayed = delay > 15 min; origin/destination: top ${TOP_AIRPORTS} airports of the non-holdout rows, others "other"; hour = departure hour + minutes/60; weekday from the date`,
  };
}

const SYNTHETIC_ROWS = 100_000;
const SYNTHETIC_SEED = 15;
const GROUP_OFFSET: Record<string, number> = { a: -2, b: 0, c: 1, d: 3 };

/**
 * A synthetic regression task of 100,000 rows from a fixed seed: Friedman's #1 function of x1-x5
 * (Friedman 1991, the usual test of boosted trees), five pure-noise features x6-x10, a categorical
 * `group` that shifts the target and, in group d, doubles x4's slope, and unit Gaussian noise (so
 * the best possible RMSE is about 1). Three quarters of it is holdout: 20,000 training and 5,000
 * validation rows keep a 12-trial sweep within minutes on 2 cores, and 75,000 holdout rows
 * measure RMSE finely.
 */
export function syntheticTask(): Task {
  const rng = derive(SYNTHETIC_SEED);
  const groups = Object.keys(GROUP_OFFSET);
  const rows = Array.from({ length: SYNTHETIC_ROWS }, () => {
    const x = Array.from({ length: 10 }, () => rng.uniform());
    const group = rng.choice(groups);
    const y =
      10 * Math.sin(Math.PI * x[0] * x[1]) +
      20 * (x[2] - 0.5) ** 2 +
      (group === 'd' ? 20 : 10) * x[3] +
      5 * x[4] +
      GROUP_OFFSET[group] +
      rng.normal();
    return { ...Object.fromEntries(x.map((v, i) => [`x${i + 1}`, v])), group, y };
  });
  return {
    name: 'automl-synthetic',
    source: `synthetic: Friedman #1 + group, seed ${SYNTHETIC_SEED} (bench/shared/datasets.ts syntheticTask)`,
    features: [
      ...Array.from({ length: 10 }, (_, i) => ({ name: `x${i + 1}`, type: 'number' as const })),
      { name: 'group', type: 'category', values: groups },
    ],
    label: { name: 'y', type: 'number' },
    rows,
    holdoutFraction: 0.75,
    notes: `${SYNTHETIC_ROWS} rows; y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 (20 x4 in group d) + 5 x5 + offset(group) + N(0, 1); x6-x10 noise; 75% holdout`,
  };
}

const distinct = (rows: Row[], key: string) =>
  [
    ...new Set(
      rows
        .map((r) => r[key])
        .filter((v) => v != null)
        .map(String),
    ),
  ].sort();
