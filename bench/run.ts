// Runs every bench/*.bench.ts and prints one table. Filter: `npm run bench -- <substring>`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import type { BenchRow } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();

const table = new Table({ head: ['benchmark', 'value', 'unit', 'target', 'ok'] });
for (const file of files) {
  process.stderr.write(`bench: ${file}…\n`);
  const mod = (await import(join(here, file))) as { default: () => Promise<BenchRow[]> };
  for (const row of await mod.default()) {
    const value = typeof row.value === 'number' ? Number(row.value.toFixed(3)) : row.value;
    table.push([
      row.name,
      String(value),
      row.unit,
      row.target ?? '',
      row.ok === undefined ? '' : row.ok ? 'yes' : 'NO',
    ]);
  }
}
console.log(table.toString());
