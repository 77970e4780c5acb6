// docker-compose.yml as a clean checkout sees it: services and their environment with the
// defaults of `${X:-d}` interpolation applied. Shared by the static compose checks and the tests
// that run the compose stack's pieces (the Collector e2e) with the compose file's own settings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './harness.js';

export type Dict = Record<string, unknown>;

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function dict(value: unknown, what: string): Dict {
  assert.ok(isDict(value), `${what} should be a mapping`);
  return value;
}

export function readRepoFile(relative: string): string {
  return readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

/** docker-compose.yml parsed, with `<<:` merge keys resolved. */
export const compose = dict(
  parse(readRepoFile('docker-compose.yml'), { merge: true }),
  'docker-compose.yml',
);

/** The compose services by name. */
export const composeServices = dict(compose.services, 'services');

/**
 * The one variable docker-compose.yml requires (`${X:?…}`, no default), as the compose checks
 * set it: a clean checkout plus the key a user must put in `.env`.
 */
export const COMPOSE_TEST_ENV: Readonly<Record<string, string>> = Object.freeze({
  LAKEHOUSE_HOP_KEY: 'compose-check-hop-key-0123456789',
});

/**
 * Compose interpolation (`${X:-d}`, `${X-d}`, `${X:?err}`, `${X?err}`, `${X}`, `$$`) over `env`
 * (default {@link COMPOSE_TEST_ENV}): what a clean checkout sees once the required key is set.
 * A required variable missing from `env` throws, as Compose refuses the file.
 */
export function interpolate(
  value: string,
  env: Readonly<Record<string, string>> = COMPOSE_TEST_ENV,
): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (
      match,
      name: string,
      colon: string | undefined,
      op: string | undefined,
      arg: string | undefined,
    ) => {
      if (match === '$$') return '$';
      const set = env[name];
      const missing = set === undefined || (colon === ':' && set === '');
      if (op === '?' && missing) throw new Error(`required variable ${name}: ${arg ?? ''}`);
      if (op === '-' && missing) return arg ?? '';
      return set ?? '';
    },
  );
}

export function composeService(name: string): Dict {
  return dict(composeServices[name], `services.${name}`);
}

/** A service's environment as resolved strings (map or `KEY=value` list form). */
export function composeEnv(name: string): Record<string, string> {
  const raw = composeService(name).environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line: unknown) => {
        const text = String(line);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(dict(raw, `services.${name}.environment`));
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v === null ? '' : String(v))]));
}

/** One Dockerfile stage: its FROM line and its instructions (continuations joined, comments dropped). */
export interface DockerfileStage {
  readonly from: string;
  readonly instructions: { op: string; args: string }[];
}

/** The Dockerfile's stages in order. */
export function dockerfileStages(): DockerfileStage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of readRepoFile('Dockerfile').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: DockerfileStage[] = [];
  for (const text of logical) {
    const space = text.search(/\s/);
    const op = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const args = space < 0 ? '' : text.slice(space).trim();
    if (op === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** The Dockerfile stage named `name` (`FROM … AS name`). */
export function dockerfileStage(name: string): DockerfileStage {
  const stage = dockerfileStages().find((s) => new RegExp(`\\sAS\\s+${name}$`, 'i').test(s.from));
  assert.ok(stage, `the Dockerfile has a stage named ${name}`);
  return stage;
}

/** The exact `npm ci …` the deps stage runs for `service` (without the cache clean after it). */
export function imageInstallCommand(service: string): string[] {
  const run = dockerfileStage('deps').instructions.find(
    (i) => i.op === 'RUN' && i.args.includes('npm ci'),
  );
  assert.ok(run, 'the deps stage runs npm ci');
  const command = run.args
    .split('&&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('npm ci'));
  assert.ok(command);
  return command.replace(/\$\{SERVICE\}|\$SERVICE\b/g, service).split(/\s+/);
}

/** A compose or Go memory size (`256M`, `1g`, `160MiB`) in MiB. */
export function memoryMiB(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(M|Mi|MiB|MB|m|G|Gi|GiB|GB|g)$/.exec(text.trim());
  assert.ok(m?.[1] && m[2], `${text} is a memory size`);
  return Number(m[1]) * (/^g/i.test(m[2]) ? 1024 : 1);
}

/** The collector's memory settings, in MiB and bytes, as its compose container gives them. */
export interface CollectorMemory {
  /** The container's memory limit (deploy.resources.limits.memory). */
  readonly containerMiB: number;
  /** memory_limiter's hard limit: limit_percentage of the container's limit. */
  readonly hardMiB: number;
  /** spike_limit_percentage of it; the soft limit is hard - spike. */
  readonly spikeMiB: number;
  readonly softMiB: number;
  readonly goMemLimitMiB: number;
  /** otlp_http/langfuse sending_queue.queue_size (sizer: bytes). */
  readonly queueBytes: number;
}

/**
 * What memory_limiter computes inside the compose container (percentages of the container's
 * limit, read from its cgroup), with GOMEMLIMIT and the Langfuse exporter's queue bound.
 */
export function collectorMemory(): CollectorMemory {
  const config = dict(parse(readRepoFile('otel-collector.yaml')), 'otel-collector.yaml');
  const limiter = dict(dict(config.processors, 'processors').memory_limiter, 'memory_limiter');
  const exporter = dict(dict(config.exporters, 'exporters')['otlp_http/langfuse'], 'otlp_http');
  const service = composeService('otel-collector');
  const limits = dict(
    dict(dict(service.deploy, 'deploy').resources, 'deploy.resources').limits,
    'deploy.resources.limits',
  );
  const containerMiB = memoryMiB(String(limits.memory));
  const hardMiB = (containerMiB * Number(limiter.limit_percentage)) / 100;
  const spikeMiB = (containerMiB * Number(limiter.spike_limit_percentage)) / 100;
  return {
    containerMiB,
    hardMiB,
    spikeMiB,
    softMiB: hardMiB - spikeMiB,
    goMemLimitMiB: memoryMiB(composeEnv('otel-collector').GOMEMLIMIT ?? ''),
    queueBytes: Number(dict(exporter.sending_queue, 'sending_queue').queue_size),
  };
}
