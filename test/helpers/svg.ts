/**
 * Reads the SVG that adapters/charts/render.ts draws (Vega's SVG markup: elements, attributes and
 * text, no comments or CDATA) as a tree, to check a chart by its marks, axes and legends: Vega
 * names each group by what it draws (`role-mark <layer>_marks`, `role-axis-title`,
 * `role-legend-label`, `role-title-text`).
 */
export interface SvgElement {
  name: string;
  attrs: Record<string, string>;
  children: SvgElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) =>
    e.startsWith('#x') || e.startsWith('#X')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : (ENTITIES[e] ?? m),
  );

export function parseSvg(markup: string): SvgElement {
  const root: SvgElement = { name: '#root', attrs: {}, children: [], text: '' };
  const open = [root];
  const TOKEN = /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let at = 0;
  for (const m of markup.matchAll(TOKEN)) {
    if (m.index !== at) throw new Error(`svg: unexpected markup at ${at}: ${markup.slice(at, at + 40)}`);
    at = m.index + m[0].length;
    const [, closing, name, attrs, selfClosing, text] = m;
    const parent = open[open.length - 1];
    if (text !== undefined) {
      parent.text += unescape(text);
    } else if (closing) {
      if (parent.name !== name) throw new Error(`svg: </${name}> closes <${parent.name}>`);
      open.pop();
    } else {
      const element: SvgElement = { name, attrs: {}, children: [], text: '' };
      for (const a of attrs.matchAll(/([\w:-]+)="([^"]*)"/g)) element.attrs[a[1]] = unescape(a[2]);
      parent.children.push(element);
      if (!selfClosing) open.push(element);
    }
  }
  if (at !== markup.length || open.length !== 1) throw new Error('svg: unterminated markup');
  if (root.children.length !== 1 || root.children[0].name !== 'svg') throw new Error('svg: not one <svg> element');
  return root.children[0];
}

/** Every element under `root` (itself included) whose class list holds `cls`. */
export function byClass(root: SvgElement, cls: string): SvgElement[] {
  const found: SvgElement[] = [];
  const visit = (e: SvgElement) => {
    if ((e.attrs.class ?? '').split(/\s+/).includes(cls)) found.push(e);
    e.children.forEach(visit);
  };
  visit(root);
  return found;
}

/** The items a layer drew: the children of its mark group (`name` as in the spec's layer). */
export function markItems(root: SvgElement, name: string): SvgElement[] {
  return byClass(root, `${name}_marks`).flatMap((g) => g.children);
}

/** The texts of every element with class `cls` (e.g. `role-axis-title`), in document order. */
export function texts(root: SvgElement, cls: string): string[] {
  const all = (e: SvgElement): string[] => [e.text, ...e.children.flatMap(all)].filter((t) => t !== '');
  return byClass(root, cls).flatMap(all);
}

/** The `<svg>...</svg>` elements inlined in an HTML page. */
export function inlineSvgs(html: string): SvgElement[] {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => parseSvg(m[0]));
}
