// A real Prometheus (Debian's `prometheus`) for the tests: scrapes the given targets every second
// and answers instant queries.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort } from './harness.js';

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ScrapeJob {
  readonly name: string;
  /** host:port */
  readonly target: string;
  /** Keep the scraped series' own job/instance labels (what scraping a Collector's exporter needs). */
  readonly honorLabels?: boolean;
}

export interface Prometheus {
  readonly url: string;
  /** An instant query; asserts Prometheus answered `success`. */
  query(expr: string): Promise<VectorSample[]>;
  stop(): Promise<void>;
}

/** Starts Prometheus on a free loopback port, scraping `jobs` every second; resolves once it is ready. */
export async function startPrometheus(jobs: readonly ScrapeJob[]): Promise<Prometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-prom-'));
  const port = await freePort();
  const lines = ['global:', '  scrape_interval: 1s', 'scrape_configs:'];
  for (const job of jobs) {
    lines.push(`  - job_name: ${job.name}`);
    if (job.honorLabels) lines.push('    honor_labels: true');
    lines.push(`    static_configs: [{ targets: ['${job.target}'] }]`);
  }
  writeFileSync(path.join(dir, 'prometheus.yml'), lines.join('\n') + '\n');
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}`);
      const response = await fetch(`${url}/-/ready`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    },
    30_000,
    'Prometheus to be ready',
  );
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as { status: string; data: { result: VectorSample[] } };
      assert.equal(body.status, 'success');
      return body.data.result;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
