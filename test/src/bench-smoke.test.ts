// Smoke test of the benchmark harness (`npm run bench`): runs `node bench/run.mjs --quick`, which
// exercises every figure's code path at tiny sizes, so the harness cannot rot. It asserts that
// the run completes and reports every figure; it never asserts on timings or PASS/MISS
// (benchmarks are not tests).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from './harness.js';

const TIMEOUT_MS = 120_000;
const FIGURE_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

interface BenchFigure {
  id: number;
  name: string;
  status: string;
  display: string;
  target: string;
}

interface BenchResults {
  date: string;
  node: string;
  cpu_model: string;
  git_commit: string;
  quick: boolean;
  figures: BenchFigure[];
}

function runBench(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/run.mjs', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_RESULTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`bench --quick did not finish within ${TIMEOUT_MS} ms:\n${stderr.slice(-4000)}`),
      );
    }, TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench (quick sizes)', { timeout: TIMEOUT_MS + 10_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-bench-smoke-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every figure, prints the table and writes the results file', async () => {
    const resultsPath = path.join(dir, 'results.json');
    const { code, stdout, stderr } = await runBench(['--quick', '--results', resultsPath]);
    assert.equal(code, 0, `bench exited ${code}:\n${stderr.slice(-4000)}`);

    const header = stdout.split('\n').find((line) => /^#\s+figure\s/.test(line));
    assert.ok(header, `no table header in:\n${stdout}`);
    assert.match(header, /measured\s+target\s+result\s+context/);
    for (const id of FIGURE_IDS) {
      const row = stdout.split('\n').find((line) => line.startsWith(`${id}  `));
      assert.ok(row, `figure ${id} missing from the table:\n${stdout}`);
      assert.match(row, /\b(PASS|MISS)\b/, `figure ${id} has no verdict: ${row}`);
    }

    const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as BenchResults;
    assert.equal(results.quick, true);
    assert.ok(!Number.isNaN(Date.parse(results.date)));
    assert.equal(results.node, process.version);
    assert.ok(results.cpu_model.length > 0);
    assert.ok(results.git_commit.length > 0);
    assert.deepEqual(
      results.figures.map((f) => f.id),
      FIGURE_IDS,
    );
    for (const figure of results.figures) {
      assert.ok(['PASS', 'MISS'].includes(figure.status), `figure ${figure.id}: ${figure.status}`);
      assert.ok(figure.target.length > 0 && figure.display.length > 0);
    }
  });

  it('rejects an unknown size name', async () => {
    const { code, stderr } = await runBench(['--quick', '--only', '4', '--size', 'roster.nope=1']);
    assert.equal(code, 2);
    assert.match(stderr, /bad --size roster\.nope=1/);
  });
});
