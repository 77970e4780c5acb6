import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

void describe('roster CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  const badArgs: [string[], RegExp][] = [
    [[], /missing --rows/],
    [['--rows', '10'], /missing --out/],
    [['--rows', 'abc', '--out', 'x.parquet'], /--rows must be an integer, got "abc"/],
    [['--rows', '0', '--out', 'x.parquet'], /--rows must be between 1 and/],
    [['--rows', '-5', '--out', 'x.parquet'], /--rows/],
    [['--rows', '10', '--out', 'x.parquet', '--seed', '1.5'], /--seed must be an integer/],
    [['--rows', '10', '--out'], /--out/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--check', 'a.parquet', '--rows', '3'], /--check cannot be combined/],
    [['stray'], /positional/],
  ];
  for (const [args, pattern] of badArgs) {
    void it(`exits 2 with a clear message for: ${args.join(' ') || '(no arguments)'}`, async () => {
      const { code, stderr, stdout } = await runCli(args);
      assert.equal(code, 2);
      assert.match(stderr, pattern);
      assert.match(stderr, /usage:/);
      assert.equal(stdout, '');
    });
  }

  void it('generates a roster and prints progress and a summary', async () => {
    const out = join(dir, 'r.parquet');
    const { code, stdout } = await runCli(['--rows', '1000', '--out', out, '--seed', '3']);
    assert.equal(code, 0);
    assert.match(stdout, /generating 1000 workers \(seed 3\) as parquet/);
    const size = (await stat(out)).size;
    assert.match(
      stdout,
      new RegExp(`done: rows=1000 path=.*r\\.parquet size=${size} bytes ms=\\d+`),
    );
  });

  void it('--check reports size, active count and load time', async () => {
    const out = join(dir, 'c.csv');
    assert.equal((await runCli(['--rows', '500', '--out', out])).code, 0);
    const { code, stdout } = await runCli(['--check', out]);
    assert.equal(code, 0);
    assert.match(stdout, /^ok .*c\.csv: 500 workers, \d+ active \(\d+\.\d%\), loaded in \d+ ms/);
  });

  void it('--check on a missing file exits 1 with the loud warning', async () => {
    const missing = join(dir, 'missing.parquet');
    const { code, stderr } = await runCli(['--check', missing]);
    assert.equal(code, 1);
    assert.ok(stderr.includes(`npm run roster -- --rows 2000 --out ${missing}`));
    assert.match(stderr, /check failed: roster file not found/);
  });
});
