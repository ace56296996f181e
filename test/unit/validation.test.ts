import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatReport, parseNumeric, validateRows, type ValidationSpecLike } from '../../core/validation.ts';

/** weather.csv from vega-datasets as string-valued records (as a CSV reader yields them). */
function seattleRows(): Record<string, unknown>[] {
  const csv = new URL('../../node_modules/vega-datasets/data/weather.csv', import.meta.url);
  const [header, ...lines] = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
  const cols = header.split(',');
  return lines
    .map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
    })
    .filter((r) => r.location === 'Seattle');
}

const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const spec: ValidationSpecLike = {
  features: [
    { name: 'precipitation', type: 'number', min: 0 },
    { name: 'temp_max', type: 'number', min: -40, max: 50 },
    { name: 'temp_min', type: 'number', min: -40, max: 50 },
    { name: 'wind', type: 'number', min: 0, max: 20 },
  ],
  label: { name: 'weather', classes: CLASSES },
  validation: { minRows: 50, maxMissingFraction: 0.05, minClassCount: 2 },
};

/** The first n Seattle rows, copied so a test can damage them. */
function rows(n?: number): Record<string, unknown>[] {
  return seattleRows()
    .slice(0, n)
    .map((r) => ({ ...r }));
}

describe('validateRows', () => {
  it('passes the real Seattle rows of weather.csv', () => {
    const report = validateRows(seattleRows(), spec);
    assert.deepEqual(report.failures, []);
    assert.equal(report.ok, true);
    assert.equal(report.rows, 1461);
    // Python: collections.Counter(r['weather'] for r in csv.DictReader(open(path)) if r['location'] == 'Seattle')
    assert.deepEqual(report.classCounts, { drizzle: 53, fog: 101, rain: 641, snow: 26, sun: 640 });
    assert.deepEqual(report.missing, {});
    assert.deepEqual(report.outOfRange, {});
    assert.deepEqual(report.wrongType, {});
    assert.deepEqual(report.unknownLabels, {});
    assert.deepEqual(report.warnings, []);
    assert.match(formatReport(report), /^Data validation passed: 1461 rows\./);
  });

  it('accepts numbers as well as numeric strings', () => {
    const numeric = rows().map((r) => ({ ...r, precipitation: Number(r.precipitation), wind: Number(r.wind) }));
    assert.equal(validateRows(numeric, spec).ok, true);
  });

  it('fails with too few rows', () => {
    const report = validateRows(rows(10), spec);
    assert.equal(report.ok, false);
    assert.equal(report.rows, 10);
    assert.ok(
      report.failures.some((f) => /Only 10 rows; at least 50/.test(f)),
      report.failures.join('\n'),
    );
  });

  it('fails when a feature is missing too often, and only warns below the limit', () => {
    const data = rows();
    for (let i = 0; i < data.length; i += 10) data[i].precipitation = i % 20 ? '' : undefined; // 147 of 1461
    let report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.equal(report.missing.precipitation, 147);
    assert.deepEqual(report.failures, ['Feature "precipitation" is missing in 147 of 1461 rows (10%); at most 5.0% may be missing.']);

    const few = rows();
    few[3].wind = null;
    few[7].wind = NaN;
    report = validateRows(few, spec);
    assert.equal(report.ok, true, report.failures.join('\n'));
    assert.equal(report.missing.wind, 2);
    assert.deepEqual(report.warnings, ['Feature "wind" is missing in 2 rows (0.1%); they are imputed with the training mean.']);
  });

  it('fails on non-numeric values of a numeric feature, with an example', () => {
    const data = rows(100);
    data[5].temp_max = 'warm';
    data[9].temp_max = true;
    data[11].temp_min = '0x10';
    const report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.deepEqual(report.wrongType, { temp_max: 2, temp_min: 1 });
    assert.ok(
      report.failures.some((f) => f.includes('"temp_max" has 2 non-numeric values, e.g. "warm" in row 6')),
      report.failures.join('\n'),
    );
    assert.ok(report.failures.some((f) => f.includes('"0x10"')));
  });

  it('fails on values outside [min, max]', () => {
    const data = rows(100);
    data[2].wind = -3;
    data[4].wind = '25.5';
    data[6].precipitation = -0.1;
    const report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.deepEqual(report.outOfRange, { wind: 2, precipitation: 1 });
    assert.ok(
      report.failures.some((f) => f.includes('"wind" has 2 values outside [0, 20], e.g. -3 in row 3')),
      report.failures.join('\n'),
    );
    assert.ok(report.failures.some((f) => f.includes('"precipitation" has 1 value outside [0, inf]')));
  });

  it('fails on labels that are not spec classes and on missing labels', () => {
    const data = rows(100);
    data[0].weather = 'hail';
    data[1].weather = 'hail';
    data[2].weather = 'Rain';
    data[3].weather = '';
    const report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.deepEqual(report.unknownLabels, { hail: 2, Rain: 1 });
    assert.equal(report.missing.weather, 1);
    assert.ok(
      report.failures.some((f) => f.includes('"hail" (2), "Rain" (1)')),
      report.failures.join('\n'),
    );
    assert.ok(report.failures.some((f) => f.includes('Label "weather" is missing in 1 row')));
  });

  it('fails when fewer than two classes appear', () => {
    const data = rows().filter((r) => r.weather === 'rain');
    const report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.ok(
      report.failures.some((f) => f.includes('Only class "rain" appears')),
      report.failures.join('\n'),
    );
    assert.ok(report.warnings.some((w) => w.includes('"drizzle", "fog", "snow", "sun" do not appear')));
  });

  it('fails when a present class has fewer than minClassCount rows', () => {
    const all = rows();
    const data = [...all.filter((r) => r.weather !== 'snow'), all.find((r) => r.weather === 'snow')!];
    const report = validateRows(data, spec);
    assert.equal(report.ok, false);
    assert.equal(report.classCounts.snow, 1);
    assert.ok(
      report.failures.some((f) => f.includes('Class "snow" has only 1 row; every present class needs at least 2')),
      report.failures.join('\n'),
    );
    // An absent class is only a warning.
    const withoutSnow = all.filter((r) => r.weather !== 'snow');
    const ok = validateRows(withoutSnow, spec);
    assert.equal(ok.ok, true, ok.failures.join('\n'));
    assert.ok(ok.warnings.some((w) => w.includes('"snow" does not appear')));
  });

  it('formats a failing report with one line per problem', () => {
    const data = rows(10);
    data[0].wind = 'calm';
    const text = formatReport(validateRows(data, { ...spec, validation: { ...spec.validation, minClassCount: 1 } }));
    const lines = text.split('\n');
    assert.equal(lines[0], 'Data validation FAILED: 10 rows, 2 problems.');
    assert.match(lines[1], /^ {2}x Only 10 rows/);
    assert.match(lines[2], /^ {2}x Feature "wind" has 1 non-numeric value, e.g. "calm" in row 1\./);
    assert.match(lines[lines.length - 1], /^ {2}classes: drizzle \d+, fog \d+, rain \d+, snow \d+, sun \d+$/);
  });
});

describe('parseNumeric', () => {
  it('reads numbers, numeric strings, missing markers and rejects the rest', () => {
    assert.deepEqual(parseNumeric(1.5), { kind: 'number', value: 1.5 });
    assert.deepEqual(parseNumeric(' -2.5e1 '), { kind: 'number', value: -25 });
    assert.deepEqual(parseNumeric('.5'), { kind: 'number', value: 0.5 });
    for (const v of [undefined, null, NaN, '', '  ']) assert.deepEqual(parseNumeric(v), { kind: 'missing' }, String(v));
    for (const v of ['abc', '1,5', '0x10', 'Infinity', Infinity, true, {}, [1]]) {
      assert.deepEqual(parseNumeric(v), { kind: 'invalid' }, String(v));
    }
  });
});

describe('validateRows for a regression label', () => {
  // Labels 2, 4, 4, 4, 5, 5, 7, 9 (as numbers and as numeric text): mean 5 and population
  // standard deviation 2 (squared deviations 9+1+1+1+0+0+4+16 = 32, / 8 = 4).
  const LABELS: unknown[] = ['2', 4, '4', 4, ' 5 ', 5, '7', 9];
  const regression: ValidationSpecLike = {
    features: [{ name: 'rooms', type: 'number', min: 0 }],
    label: { name: 'price', type: 'number' },
    validation: { minRows: 5, maxMissingFraction: 0.5, minClassCount: 100 },
  };
  const houses = (labels: unknown[] = LABELS) => labels.map((price, i) => ({ rooms: i + 1, price }));

  it('passes numeric labels, with their statistics and no class counts', () => {
    const report = validateRows(houses(), regression);
    assert.deepEqual(report.failures, [], 'minClassCount does not apply: every value appears once or thrice');
    assert.equal(report.ok, true);
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(report.classCounts, {});
    assert.deepEqual(report.unknownLabels, {});
    assert.deepEqual(report.labelStats, { n: 8, min: 2, max: 9, mean: 5, std: 2 });
    assert.equal(formatReport(report), 'Data validation passed: 8 rows.\n  label: 8 numbers, min 2, max 9, mean 5, std 2');
  });

  it('fails on missing labels and on labels that are not finite numbers, with counts and examples', () => {
    const report = validateRows(houses([...LABELS, '', null, 'n/a', '1,5', Infinity, true]), regression);
    assert.equal(report.ok, false);
    assert.deepEqual(report.missing, { price: 2 });
    assert.deepEqual(report.wrongType, { price: 4 });
    assert.deepEqual(report.failures, [
      'Label "price" is missing in 2 rows, e.g. row 9.',
      'Label "price" has 4 non-numeric values, e.g. "n/a" in row 11; a regression label must be a finite number.',
    ]);
    assert.deepEqual(report.unknownLabels, {});
    assert.deepEqual(report.labelStats, { n: 8, min: 2, max: 9, mean: 5, std: 2 }, 'statistics of the numeric labels only');
    const lines = formatReport(report).split('\n');
    assert.equal(lines[0], 'Data validation FAILED: 14 rows, 2 problems.');
    assert.equal(lines[lines.length - 1], '  label: 8 numbers, min 2, max 9, mean 5, std 2');
  });

  it('fails when no label is a number, and when the label never varies', () => {
    const none = validateRows(houses(['cheap', 'dear', 'cheap', 'dear', 'cheap']), regression);
    assert.equal(none.ok, false);
    assert.deepEqual(none.failures, [
      'Label "price" has 5 non-numeric values, e.g. "cheap" in row 1; a regression label must be a finite number.',
      'No row has a number as its label "price"; a regression model needs numeric labels.',
    ]);
    assert.equal(none.labelStats, undefined);
    assert.deepEqual(none.classCounts, {});

    const constant = validateRows(houses([3, '3', 3.0, ' 3', '3.0']), regression);
    assert.deepEqual(constant.failures, ['Label "price" is 3 in every row with a number; a regression model needs labels that vary.']);
    assert.deepEqual(constant.labelStats, { n: 5, min: 3, max: 3, mean: 3, std: 0 });
  });

  it('prints non-round statistics to six significant digits', () => {
    // 1, 2, 10: mean 13/3 = 4.33333; population std sqrt(((-10/3)^2 + (-7/3)^2 + (17/3)^2) / 3) = sqrt(438/27) = 4.02768.
    const report = validateRows(houses([1, 2, 10]), { ...regression, validation: { ...regression.validation, minRows: 3 } });
    assert.equal(report.ok, true, report.failures.join('\n'));
    assert.equal(formatReport(report).split('\n')[1], '  label: 3 numbers, min 1, max 10, mean 4.33333, std 4.02768');
  });
});
