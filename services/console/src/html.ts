/**
 * The one templating layer of the console. `html` escapes every interpolated value unless it is
 * itself `SafeHtml` (made only by `html` or `joinHtml`), so markup never comes from data.
 * Strings are made visible first: control, bidi and other invisible characters are shown as
 * `\u{…}` escapes, so a hostile prompt or model name cannot hide or reorder what a reader sees.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

// Every control character but tab and newline (C0, DEL, C1), every format character (Unicode
// Cf: the bidi marks, embeddings, overrides and isolates, the zero-width characters, the BOM,
// U+206A–U+206F and the invisible tag characters U+E0000–U+E007F that can smuggle hidden text),
// the line and paragraph separators, and lone surrogates: the class the terminal filters of
// packages/*/src/terminal-safe.ts escape, less the tab and newline a page shows as layout.
const INVISIBLE = /(?![\t\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** Replaces characters a reader could not see (or that reorder text) with `\u{hex}`. Pure. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(visible(String(value)));
}

/** Tagged template: literal parts are markup, every `${value}` is text (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Joins fragments (escaping any plain strings) with a literal separator. */
export function joinHtml(parts: readonly unknown[], separator = ''): SafeHtml {
  return new SafeHtml(parts.map(render).join(escapeHtml(separator)));
}
