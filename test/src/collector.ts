// Runs the OpenTelemetry Collector built from deploy/collector/manifest.yaml (by
// `node deploy/collector/build.mjs`, which `npm test` runs first) with the project's otel-collector.yaml.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { filePrerequisite } from '@lakehouse/test-support';
import { eventually, REPO_ROOT } from './harness.js';

interface CollectorBuild {
  readonly version: string;
  readonly key: string;
  readonly binary: string;
}

const buildModule = (await import(
  pathToFileURL(path.join(REPO_ROOT, 'deploy/collector/build.mjs')).href
)) as { collectorBuild(root: string): CollectorBuild };

/** The Collector build for the committed manifest (its binary may not exist yet). */
export const COLLECTOR = buildModule.collectorBuild(REPO_ROOT);

/** The project's Collector configuration. */
export const COLLECTOR_CONFIG = path.join(REPO_ROOT, 'otel-collector.yaml');

/** The built Collector, for `requires()`: `npm test` builds it first wherever Go is installed. */
export const COLLECTOR_PREREQUISITE = filePrerequisite(
  `the Collector built from deploy/collector/manifest.yaml (${COLLECTOR.binary})`,
  COLLECTOR.binary,
  'install Go 1.24 or newer and rerun npm test, which builds it (node deploy/collector/build.mjs)',
);

/** Runs a Collector subcommand (validate, components, --version) to completion. */
export function runCollector(
  args: readonly string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(COLLECTOR.binary, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface CollectorHandle {
  readonly child: ChildProcess;
  /** Every log line so far (the Collector logs JSON-ish lines to stderr). */
  readonly lines: string[];
  stop(): Promise<void>;
}

/**
 * Starts `otelcol --config otel-collector.yaml [args]` with exactly `env` (plus PATH) and resolves
 * once its health check at `healthUrl` answers 200.
 */
export async function startCollector(
  env: Record<string, string>,
  healthUrl: string,
  args: readonly string[] = [],
): Promise<CollectorHandle> {
  const child = spawn(COLLECTOR.binary, [`--config=${COLLECTOR_CONFIG}`, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(killer);
  };
  try {
    await eventually(
      async () => {
        if (exited) throw new Error(`the Collector exited:\n${lines.slice(-20).join('\n')}`);
        const response = await fetch(healthUrl).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      30_000,
      'the Collector health check',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, lines, stop };
}
