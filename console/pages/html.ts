/**
 * HTML by tagged template: every interpolated value is escaped unless it is already Html, so a
 * model name, a decision's reason or a reviewer's comment can never become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[<>&"']/g, (c) => ESCAPES[c]);

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}

/** Markup made here from trusted parts (a chart's SVG rendered by Vega): not escaped. */
export const trusted = (markup: string) => new Html(markup);
