/**
 * A small strict parser of Prometheus' text exposition format (0.0.4), for tests of /metrics
 * endpoints: prom-client has none. Strict means it throws, naming the line, on anything a
 * Prometheus server would refuse or that hides a bug: a sample outside a declared family, a
 * malformed label or value, a series given twice, histogram buckets that are not cumulative or
 * whose +Inf bucket differs from the count.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Sample names a family of each type may have, as suffixes of the family's name. */
const SUFFIXES: Record<Family['type'], string[]> = {
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ("${line}")`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name, rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const family = families.get(name) ?? { name, type: 'untyped', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (family.samples.length) throw new Error(`${where}: TYPE after the family's samples`);
        family.type = rest as Family['type'];
      } else family.help = rest;
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name);
    if (!family) throw new Error(`${where}: sample of no declared family`);
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(series)) throw new Error(`${where}: the same series twice`);
    seen.add(series);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function parseSample(line: string, where: string): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head) throw new Error(`${where}: bad metric name`);
  const name = head[1];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    let at = 1;
    while (rest[at] !== '}') {
      const label = /^([^=]+)="/.exec(rest.slice(at));
      if (!label || !LABEL_NAME.test(label[1])) throw new Error(`${where}: bad label at column ${at}`);
      at += label[0].length;
      let value = '';
      for (; rest[at] !== '"'; at++) {
        if (at >= rest.length) throw new Error(`${where}: unterminated label value`);
        if (rest[at] !== '\\') value += rest[at];
        else {
          const escaped = rest[++at];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`${where}: bad escape \\${escaped}`);
        }
      }
      at++;
      if (label[1] in labels) throw new Error(`${where}: label ${label[1]} twice`);
      labels[label[1]] = value;
      if (rest[at] === ',') at++;
      else if (rest[at] !== '}') throw new Error(`${where}: expected , or } at column ${at}`);
    }
    rest = rest.slice(at + 1);
  }
  const parts = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!parts) throw new Error(`${where}: expected " value [timestamp]"`);
  return { name, labels, value: parseValue(parts[1], where) };
}

/** As Prometheus reads it (Go's ParseFloat): NaN and Inf in any case; prom-client writes "Nan". */
function parseValue(text: string, where: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`${where}: bad value "${text}"`);
  return value;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  for (const family of families.values()) {
    for (const suffix of SUFFIXES[family.type]) if (sampleName === family.name + suffix) return family;
  }
  return undefined;
}

/** Per series (labels without le): buckets cumulative, +Inf present and equal to _count. */
function checkHistogram(family: Family): void {
  const key = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([name]) => name !== 'le')
        .sort(),
    );
  const buckets = new Map<string, Array<{ le: number; value: number }>>();
  const counts = new Map<string, number>();
  for (const s of family.samples) {
    if (s.name.endsWith('_bucket')) {
      if (s.labels.le === undefined) throw new Error(`${family.name}: a bucket without le`);
      const list = buckets.get(key(s.labels)) ?? [];
      list.push({ le: parseValue(s.labels.le, `${family.name} le`), value: s.value });
      buckets.set(key(s.labels), list);
    } else if (s.name.endsWith('_count')) counts.set(key(s.labels), s.value);
  }
  for (const [series, list] of buckets) {
    list.sort((a, b) => a.le - b.le);
    list.forEach((b, i) => {
      if (i > 0 && b.value < list[i - 1].value) throw new Error(`${family.name}${series}: buckets not cumulative at le=${b.le}`);
    });
    const inf = list[list.length - 1];
    if (inf.le !== Infinity) throw new Error(`${family.name}${series}: no +Inf bucket`);
    if (counts.get(series) !== inf.value)
      throw new Error(`${family.name}${series}: +Inf bucket ${inf.value} != count ${counts.get(series)}`);
  }
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sampleSum(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}

/** Scrapes `url` and parses what it answers; fails on a non-200 or a content type other than the text format. */
export async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text}`);
  const type = response.headers.get('content-type') ?? '';
  if (!/^text\/plain(;|$)/.test(type)) throw new Error(`GET ${url}: content type ${type}, not the text format`);
  return parsePrometheus(text);
}
