// writeStdout: every byte reaches a file and a pipe, a full non-blocking pipe is waited for, and a reader that
// closes the pipe early ends the write quietly.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const module = join(import.meta.dirname, 'stdout.ts');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-stdout-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Far more than a pipe's buffer (64 KiB), with multi-byte characters across chunk boundaries.
const LINE = 'ä…€ 0123456789 abcdefghij\n';
const TEXT = LINE.repeat(40_000);
/** A child that writes TEXT with writeStdout; `before` runs first (e.g. to make its stdout non-blocking). */
const writer = (before = '') =>
  `${before}; const { writeStdout } = await import(${JSON.stringify(module)}); writeStdout(${JSON.stringify(LINE)}.repeat(40_000));`;

describe('writeStdout', () => {
  it('writes every byte to a file', () => {
    const file = join(tmp, 'out');
    const r = spawnSync('sh', ['-c', `"$NODE" --input-type=module -e "$CODE" > "$FILE"`], {
      env: { ...process.env, NODE: process.execPath, CODE: writer(), FILE: file },
    });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(file, 'utf8'), TEXT);
  });

  it('waits for a full non-blocking pipe instead of failing with EAGAIN', async () => {
    // The child makes its own stdout non-blocking, as a parent sharing the pipe may have done, and says on
    // stderr when writeStdout has returned: with nobody reading, the pipe was full long before.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${writer('process.stdout._handle?.setBlocking?.(false)')} console.error('returned');`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pause();
    let errors = '';
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (c: Buffer) => {
        errors += c.toString();
        if (errors.includes('returned')) resolve();
      }),
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdout.resume();
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, errors);
    assert.equal(errors, 'returned\n');
    assert.equal(Buffer.concat(chunks).toString('utf8'), TEXT);
  });

  it('stops quietly when the reader closes the pipe', () => {
    const r = spawnSync('sh', ['-c', `"$NODE" --input-type=module -e "$CODE" 2>"$ERR" | head -c 10; echo " $?"`], {
      env: { ...process.env, NODE: process.execPath, CODE: writer(), ERR: join(tmp, 'err') },
    });
    assert.deepEqual(r.stdout, Buffer.concat([Buffer.from(TEXT).subarray(0, 10), Buffer.from(' 0\n')]));
    assert.equal(readFileSync(join(tmp, 'err'), 'utf8'), '');
  });
});
