// Just enough YAML to read docker-compose.yml in a test without a YAML dependency: block maps, block
// lists of scalars, flow lists in JSON form, quoted and plain scalars, comments. Anything else throws,
// so the test fails loudly instead of checking a misread file.
export type YamlValue = string | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true' || s === 'false') return s === 'true';
  if (s.startsWith('"')) return JSON.parse(s) as string;
  if (s.startsWith("'")) {
    if (!s.endsWith("'")) throw new Error(`line ${no}: unterminated quote`);
    return s.slice(1, -1).replaceAll("''", "'");
  }
  if (s.startsWith('[')) return JSON.parse(s) as YamlValue[];
  if (s.startsWith('{') || s.startsWith('&') || s.startsWith('*') || s === '|' || s === '>')
    throw new Error(`line ${no}: unsupported YAML in this test reader: ${s}`);
  return s;
}

export function parseYaml(text: string): YamlValue {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const body = stripComment(raw);
    if (body.trim() === '') return;
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not YAML indentation`);
    lines.push({ indent: body.length - body.trimStart().length, text: body.trim(), no: i + 1 });
  });
  let pos = 0;
  const block = (indent: number): YamlValue => {
    if (lines[pos].text.startsWith('- ') || lines[pos].text === '-') {
      const list: YamlValue[] = [];
      while (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('-')) {
        const item = lines[pos].text.slice(1).trim();
        if (/^[\w.-]+:(\s|$)/.test(item)) throw new Error(`line ${lines[pos].no}: maps inside lists are not supported`);
        list.push(scalar(item, lines[pos].no));
        pos++;
      }
      return list;
    }
    const map: { [key: string]: YamlValue } = {};
    while (pos < lines.length && lines[pos].indent === indent) {
      const { text: t, no } = lines[pos];
      const m = /^("[^"]+"|[\w.-]+):(?:\s+(.*))?$/.exec(t);
      if (!m) throw new Error(`line ${no}: expected "key: value", got ${t}`);
      const key = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
      if (key in map) throw new Error(`line ${no}: duplicate key ${key}`);
      pos++;
      if (m[2] !== undefined && m[2] !== '') map[key] = scalar(m[2], no);
      else if (pos < lines.length && lines[pos].indent > indent) map[key] = block(lines[pos].indent);
      else map[key] = null;
    }
    if (pos < lines.length && lines[pos].indent > indent)
      throw new Error(`line ${lines[pos].no}: unexpected indentation`);
    return map;
  };
  if (lines.length === 0) return null;
  const doc = block(lines[0].indent);
  if (pos !== lines.length) throw new Error(`line ${lines[pos].no}: unexpected indentation`);
  return doc;
}
