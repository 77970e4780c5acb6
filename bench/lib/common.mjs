// Shared helpers of the benchmark harness: progress on stderr, medians, the result table.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

const started = Date.now();

/** One progress line on stderr, prefixed with the elapsed time. */
export function progress(message) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Formats a number for the table: thousands separators, `digits` decimals. */
export function fmt(value, digits = 0) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Orders of the two sides for round `i`: A B, B A, A B, … so neither side always goes first. */
export function alternate(round, sides) {
  return round % 2 === 0 ? sides : [...sides].reverse();
}

/** A figure's verdict: `pass` compares measured against target. */
export function verdict(measured, pass) {
  return Number.isFinite(measured) && pass ? 'PASS' : 'MISS';
}

/** Machine facts recorded with the results. */
export function environment() {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    dirty =
      execFileSync('git', ['status', '--porcelain'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      }).trim() !== '';
  } catch {
    // not a git checkout
  }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu_model: cpu[0]?.model ?? 'unknown',
    cpu_count: cpu.length,
    git_commit: commit,
    git_dirty: dirty,
  };
}

/** Renders rows (arrays of strings) as an aligned text table with a header rule. */
export function renderTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The RSS of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
