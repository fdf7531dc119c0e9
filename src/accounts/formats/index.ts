// Format registry: detects which of the §4 formats a document is, and turns text into accounts or a
// clear error value. Adding a format means adding a module and one line in FORMATS.
import type { AccountSourceKind, AuthFileFormat } from '../../domain/account.ts';
import { codexCliFormat } from './codex-cli.ts';
import { codexQuotaFormat } from './codex-quota.ts';
import { isRecord, nameFromFileName } from './common.ts';
import { cpaFormat } from './cpa.ts';
import { detectJsonStyle, type JsonStyle } from './json-style.ts';
import { multiAuthFormat } from './multi-auth.ts';
import type { AuthFormat, EntryProblem } from './types.ts';

export type { AuthFormat, EntryProblem, FormatContext, TokenUpdate } from './types.ts';

/** Most specific first: a CPA file also has top-level access_token like a codex-quota file. */
export const FORMATS: readonly AuthFormat[] = [cpaFormat, multiAuthFormat, codexCliFormat, codexQuotaFormat];

export function formatByName(format: AuthFileFormat): AuthFormat {
  const found = FORMATS.find((f) => f.format === format);
  if (!found) throw new Error(`unknown auth file format ${format}`);
  return found;
}

/** Why a file (or one entry in it) gave no account. Never holds a token. */
export interface AccountLoadError {
  path: string;
  index: number | null;
  format: AuthFileFormat | null;
  message: string;
}

export interface ParsedAuthFile {
  path: string;
  format: AuthFormat;
  /** The parsed document: updates change it in place so unknown fields and key order survive. */
  doc: unknown;
  style: JsonStyle;
  accounts: import('../../domain/account.ts').Account[];
  problems: EntryProblem[];
}

export function detectFormat(doc: unknown, fileName: string): AuthFormat | null {
  return FORMATS.find((f) => f.detect(doc, fileName)) ?? null;
}

/** JSON.parse messages can quote file content (a token); keep only where it broke. */
function jsonErrorWhere(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const lineCol = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineCol) return ` at line ${lineCol[1]} column ${lineCol[2]}`;
  const pos = /position (\d+)/.exec(message);
  if (pos) return ` at character ${pos[1]}`;
  return /end of (JSON )?input/i.test(message) ? ' (it ends too early: truncated?)' : '';
}

export interface ParseContext {
  path: string;
  fileName: string;
  sourceKind: AccountSourceKind;
  /** When the caller knows the format (e.g. a multi-auth source), anything else is an error. */
  expected?: AuthFileFormat;
}

export function parseAuthText(text: string, ctx: ParseContext): ParsedAuthFile | AccountLoadError {
  const fail = (message: string, format: AuthFileFormat | null = null): AccountLoadError => ({
    path: ctx.path,
    index: null,
    format,
    message: `${ctx.path}: ${message}`,
  });
  if (text.trim() === '') return fail('the file is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return fail(`not valid JSON${jsonErrorWhere(error)}`);
  }
  if (!isRecord(doc)) return fail('expected a JSON object at the top level');
  if (typeof doc.type === 'string' && doc.type !== 'codex') {
    return fail(`a CLIProxyAPI auth file of type "${doc.type}", not a Codex account: skipped`);
  }
  const format = detectFormat(doc, ctx.fileName);
  if (!format) {
    return fail(
      'not a recognized auth file (expected a Codex CLI auth.json, a CLIProxyAPI codex-<email>.json, ' +
        'a codex-quota <name>.auth.json or a codex-multi-auth v3 accounts file)',
    );
  }
  if (ctx.expected && format.format !== ctx.expected) {
    return fail(`expected a ${ctx.expected} file but this looks like ${format.format}`, format.format);
  }
  const { accounts, problems } = format.read(doc, {
    path: ctx.path,
    name: nameFromFileName(ctx.fileName),
    sourceKind: ctx.sourceKind,
  });
  if (accounts.length === 0 && problems.length > 0 && problems[0].index == null) {
    return fail(problems[0].message, format.format);
  }
  return { path: ctx.path, format, doc, style: detectJsonStyle(text), accounts, problems };
}

export function isLoadError(value: ParsedAuthFile | AccountLoadError): value is AccountLoadError {
  return !('doc' in value);
}

/** Entry problems of a readable file as load errors, so one bad entry never hides the others. */
export function problemsAsErrors(parsed: ParsedAuthFile): AccountLoadError[] {
  return parsed.problems.map((p) => ({
    path: parsed.path,
    index: p.index,
    format: parsed.format.format,
    message: `${parsed.path}: ${p.message}`,
  }));
}
