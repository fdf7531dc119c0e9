// Writes JSON back in the style the file was found in (indent, trailing newline, Go's HTML escaping),
// so a write-back changes only the fields we meant to change.

export interface JsonStyle {
  /** '' for compact one-line JSON, else the indent unit (two spaces, a tab…). */
  indent: string;
  trailingNewline: boolean;
  /** Go's encoding/json escapes <, > and & as \u003c, \u003e, \u0026 (CLIProxyAPI writes this way). */
  escapeHtml: boolean;
}

export function detectJsonStyle(text: string): JsonStyle {
  const trailingNewline = text.endsWith('\n');
  const body = text.trimStart();
  const firstIndent = /^[{[]\r?\n([ \t]+)\S/.exec(body);
  const multiLine = body.trimEnd().includes('\n');
  return {
    indent: firstIndent ? firstIndent[1] : multiLine ? '  ' : '',
    trailingNewline,
    escapeHtml: /\\u00(3c|3e|26)/i.test(text),
  };
}

export function stringifyJson(doc: unknown, style: JsonStyle): string {
  let out = JSON.stringify(doc, null, style.indent === '' ? undefined : style.indent);
  if (style.escapeHtml) out = out.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return style.trailingNewline ? `${out}\n` : out;
}
