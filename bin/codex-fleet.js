#!/usr/bin/env node
// Runs the TypeScript CLI on a Node that can strip types (>= 22.18). When the system Node is older,
// hand over to the Node that `npm install` brought as a devDependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const canStrip = major > 22 || (major === 22 && minor >= 18);

if (canStrip) {
  await import(main);
} else {
  const bundled = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(
      `codex-fleet needs Node >= 22.18 (this is ${process.version}). Run \`npm install\` in ${root}, or install Node 22 LTS / 24.`,
    );
    process.exit(1);
  }
  const result = spawnSync(bundled, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
