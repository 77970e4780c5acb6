// Static checks of the container stack: docker-compose.yml, otel-collector.yaml and the
// Dockerfile must agree with each other and with the services' start scripts. No Docker engine
// needed; the file is also loaded by compose-go v2, Docker Compose v2's own loader (test/compose-check).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import {
  collectorMemory,
  compose,
  composeEnv as serviceEnv,
  composeService as service,
  composeServices as services,
  dict,
  dockerfileStage,
  dockerfileStages,
  imageInstallCommand,
  COMPOSE_TEST_ENV,
  interpolate,
  isDict,
  readRepoFile,
} from './compose-file.js';
import { REPO_ROOT } from './harness.js';

const SERVICES = ['gateway', 'chatd'] as const;

/** Exactly the ports meant for the host: the services, Langfuse's UI, the Prometheus exporter. */
const INTENDED_PUBLISHED = [
  'chatd 4120->4120',
  'gateway 4110->4110',
  'langfuse-web 3000->3000',
  'otel-collector 8889->8889',
];

/** Ports the third-party images listen on (our services' ports come from PORT, the collector's from its config). */
const IMAGE_PORTS: Readonly<Record<string, readonly number[]>> = {
  'langfuse-web': [3000],
  'langfuse-worker': [3030],
  postgres: [5432],
  clickhouse: [8123, 9000],
  redis: [6379],
  minio: [9000, 9001],
};

/** Images with no shell or probe binary inside, so no compose health check can run in them. */
const NO_SHELL: Readonly<Record<string, string>> = {
  'otel-collector': 'the contrib image is distroless (a single static binary)',
};

/** An exact release tag: x.y.z (more parts allowed, an optional -variant) or MinIO's RELEASE.<time>. */
const EXACT_TAG =
  /^(\d+\.\d+\.\d+(\.\d+)*(-[a-z0-9.]+)?|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)$/;

/** Images whose releases have two parts (PostgreSQL since 10: 17.10 is one release, 17 a line). */
const TWO_PART_RELEASES = new Set(['postgres']);

/** Stores Langfuse needs; our services must never wait for them (or for Langfuse). */
const LANGFUSE_SIDE = [
  'langfuse-web',
  'langfuse-worker',
  'postgres',
  'clickhouse',
  'redis',
  'minio',
];

function strings(value: unknown, what: string): string[] {
  assert.ok(
    Array.isArray(value) && value.every((v) => typeof v === 'string'),
    `${what} should be a list of strings`,
  );
  return value;
}

const collector = dict(parse(readRepoFile('otel-collector.yaml')), 'otel-collector.yaml');
const manifest = dict(parse(readRepoFile('deploy/collector/manifest.yaml')), 'manifest.yaml');

/** A Go duration or compose duration (`30s`, `1m30s`) in milliseconds. */
function durationMs(text: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let consumed = '';
  for (let m = re.exec(text); m; m = re.exec(text)) {
    consumed += m[0];
    total +=
      Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  assert.equal(consumed, text, `${text} is a duration`);
  return total;
}

interface ShutdownStep {
  readonly step: string;
  /** The code in server.ts that waits. */
  readonly code: string;
  readonly bound: () => number;
}

/** A numeric constant (`NAME = 20_000`, or `name: 20_000` in an object) from a source file. */
function sourceConstant(file: string, name: string, assign = '='): number {
  const match = new RegExp(`\\b${name}\\s*${assign}\\s*([\\d_]+)\\b`).exec(readRepoFile(file));
  assert.ok(match?.[1], `${file} no longer defines ${name}; update this test with the new bound`);
  return Number(match[1].replace(/_/g, ''));
}

/**
 * Every wait on a service's shutdown path (its server.ts after SIGTERM), in the order they
 * happen one after another, each with the code that waits and what bounds it in the source.
 */
const SHUTDOWN_PATHS: Readonly<Record<(typeof SERVICES)[number], readonly ShutdownStep[]>> = {
  gateway: [
    {
      step: 'drain grace (SHUTDOWN_GRACE_MS)',
      code: '}, config.shutdownGraceMs);',
      bound: () =>
        Number(
          serviceEnv('gateway').SHUTDOWN_GRACE_MS ||
            sourceConstant('services/gateway/src/config.ts', 'shutdownGraceMs', ':'),
        ),
    },
    {
      step: 'cut after abort',
      code: '}, CUT_AFTER_ABORT_MS);',
      bound: () => sourceConstant('services/gateway/src/server.ts', 'CUT_AFTER_ABORT_MS'),
    },
    {
      step: 'rows emitted',
      code: 'delay(CUT_AFTER_ABORT_MS)',
      bound: () => sourceConstant('services/gateway/src/server.ts', 'CUT_AFTER_ABORT_MS'),
    },
    {
      step: 'session log flush',
      code: 'await sessionLog.shutdown()',
      bound: () =>
        sourceConstant('packages/session-log/src/session-log.ts', 'FLUSH_TIMEOUT_MILLIS'),
    },
    {
      step: 'telemetry flush',
      code: 'await getTelemetry()?.shutdown()',
      bound: () => sourceConstant('packages/telemetry/src/telemetry.ts', 'SHUTDOWN_TIMEOUT_MS'),
    },
  ],
  chatd: [
    {
      step: 'drain grace',
      code: 'server.closeAllConnections(), SHUTDOWN_GRACE_MS);',
      bound: () => sourceConstant('services/chatd/src/server.ts', 'SHUTDOWN_GRACE_MS'),
    },
    {
      step: 'telemetry flush',
      code: 'await getTelemetry()?.shutdown()',
      bound: () => sourceConstant('packages/telemetry/src/telemetry.ts', 'SHUTDOWN_TIMEOUT_MS'),
    },
  ],
};

/** The collector's `${env:X}` / `${X}` references, resolved from its compose environment. */
function collectorValue(value: unknown): string {
  const env = serviceEnv('otel-collector');
  return String(value).replace(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    assert.ok(
      name in env,
      `otel-collector.yaml uses \${env:${name}} but the otel-collector service does not set ${name}`,
    );
    return env[name] ?? '';
  });
}

function portOf(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  assert.ok(Number.isInteger(port) && port > 0, `no port in ${address}`);
  return port;
}

/** host:port of a URL, with the scheme's default port when none is written. */
function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  return { host: parsed.hostname, port };
}

const receivers = dict(collector.receivers, 'receivers');
const exporters = dict(collector.exporters, 'exporters');
const processors = dict(collector.processors, 'processors');
const extensions = dict(collector.extensions, 'extensions');
const serviceSection = dict(collector.service, 'service');
const pipelines = dict(serviceSection.pipelines, 'service.pipelines');

const otlpProtocols = dict(
  dict(receivers.otlp, 'receivers.otlp').protocols,
  'receivers.otlp.protocols',
);
const OTLP_HTTP_PORT = portOf(collectorValue(dict(otlpProtocols.http, 'otlp http').endpoint));
const OTLP_GRPC_PORT = portOf(collectorValue(dict(otlpProtocols.grpc, 'otlp grpc').endpoint));

/** The ports a compose service listens on inside the network. */
function listeningPorts(name: string): number[] {
  if ((SERVICES as readonly string[]).includes(name)) {
    const port = Number(serviceEnv(name).PORT);
    assert.ok(Number.isInteger(port) && port > 0, `services.${name} must set a fixed PORT`);
    return [port];
  }
  if (name === 'otel-collector') {
    const ports = [OTLP_GRPC_PORT, OTLP_HTTP_PORT];
    for (const [id, config] of Object.entries(exporters)) {
      if (id.split('/')[0] === 'prometheus')
        ports.push(portOf(collectorValue(dict(config, id).endpoint)));
    }
    for (const [id, config] of Object.entries(extensions)) {
      if (id.split('/')[0] === 'health_check')
        ports.push(portOf(collectorValue(dict(config, id).endpoint)));
    }
    return ports;
  }
  const known = IMAGE_PORTS[name];
  assert.ok(known, `no known ports for compose service ${name}`);
  return [...known];
}

function assertReachable(url: string, what: string): void {
  const { host, port } = hostPort(url);
  assert.ok(host in services, `${what} (${url}): host ${host} is not a compose service`);
  assert.ok(
    listeningPorts(host).includes(port),
    `${what} (${url}): ${host} does not listen on ${port}`,
  );
}

void describe('otel-collector.yaml', () => {
  void it('wires every pipeline to defined receivers, processors and exporters', () => {
    const used = {
      receivers: new Set<string>(),
      processors: new Set<string>(),
      exporters: new Set<string>(),
    };
    const defined = { receivers, processors, exporters };
    for (const [name, raw] of Object.entries(pipelines)) {
      const pipeline = dict(raw, `pipeline ${name}`);
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        const ids = strings(pipeline[kind] ?? [], `${name}.${kind}`);
        if (kind !== 'processors') assert.ok(ids.length > 0, `pipeline ${name} has no ${kind}`);
        for (const id of ids) {
          assert.ok(
            id in defined[kind],
            `pipeline ${name} names undefined ${kind.slice(0, -1)} ${id}`,
          );
          used[kind].add(id);
        }
      }
      // memory_limiter first, so refusal happens before any other work.
      assert.equal(
        strings(pipeline.processors, `${name}.processors`)[0],
        'memory_limiter',
        `pipeline ${name}`,
      );
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const id of Object.keys(defined[kind]))
        assert.ok(used[kind].has(id), `${kind} ${id} is defined but unused`);
    }
    assert.deepEqual(Object.keys(pipelines).sort(), ['logs', 'metrics', 'traces']);
  });

  void it('declares every extension it enables, and enables every one it declares', () => {
    const enabled = strings(serviceSection.extensions ?? [], 'service.extensions');
    for (const id of enabled)
      assert.ok(id in extensions, `service.extensions names undeclared extension ${id}`);
    assert.deepEqual([...enabled].sort(), Object.keys(extensions).sort());
    // Inside a container a localhost-bound health check is unreachable.
    assert.equal(
      collectorValue(dict(extensions.health_check, 'health_check').endpoint),
      '0.0.0.0:13133',
    );
  });

  void it('uses only components the manifest builds, at the release the compose image pins', () => {
    // The binary's exact component list is checked by collector-config.test.ts; this half needs no Go.
    const dist = dict(manifest.dist, 'manifest dist');
    const version = String(dist.version);
    assert.equal(
      String(service('otel-collector').image),
      `otel/opentelemetry-collector-contrib:${version}`,
      "the compose image and the tests' Collector are one release",
    );
    const built = new Set<string>();
    for (const kind of ['receivers', 'processors', 'exporters', 'extensions', 'providers']) {
      for (const entry of (manifest[kind] as unknown[] | undefined) ?? []) {
        const [module, moduleVersion] = String(dict(entry, `${kind} entry`).gomod).split(' ');
        // One release line: v0.<minor>.x for components, v1.x for the stable providers.
        const onLine =
          kind === 'providers'
            ? /^v1\.\d+\.\d+$/.test(moduleVersion ?? '')
            : moduleVersion === `v${version}`;
        assert.ok(onLine, `${module} ${moduleVersion} is off the ${version} release line`);
        if (kind !== 'providers')
          built.add(
            `${kind} ${path.posix.basename(module ?? '').replace(/(receiver|processor|exporter|extension)$/, '')}`,
          );
      }
    }
    const sections = { receivers, processors, exporters, extensions };
    for (const [kind, section] of Object.entries(sections)) {
      for (const id of Object.keys(section)) {
        const type = (id.split('/')[0] ?? id).replace(/_/g, '');
        assert.ok(
          built.has(`${kind} ${type}`),
          `${kind} ${id} is not in deploy/collector/manifest.yaml`,
        );
      }
    }
  });

  void it("batches in the exporters' sending_queue, bounded in bytes, with no legacy batch processor", () => {
    assert.ok(!Object.keys(processors).some((id) => id.split('/')[0] === 'batch'));
    const langfuse = dict(exporters['otlp_http/langfuse'], 'otlp_http/langfuse');
    const queue = dict(langfuse.sending_queue, 'otlp_http/langfuse sending_queue');
    assert.notEqual(queue.enabled, false);
    assert.equal(queue.sizer, 'bytes');
    assert.ok(Number(queue.queue_size) > 0);
    const batch = dict(queue.batch, 'sending_queue.batch');
    assert.ok(
      Number(batch.max_size) <= 16 * 1024 * 1024,
      "batches stay under Langfuse's 16 MB warning",
    );
    // Retrying is what carries spans over a Langfuse restart.
    assert.notEqual(dict(langfuse.retry_on_failure, 'retry_on_failure').enabled, false);
  });

  void it('sizes memory_limiter to the container memory limit, GOMEMLIMIT below its hard limit, the queue a quarter of its soft limit', () => {
    const limiter = dict(processors.memory_limiter, 'memory_limiter');
    const hardPct = Number(limiter.limit_percentage);
    const spikePct = Number(limiter.spike_limit_percentage);
    assert.ok(hardPct > 0 && hardPct <= 90 && spikePct > 0 && spikePct < hardPct);
    const memory = collectorMemory();
    assert.ok(memory.goMemLimitMiB <= memory.hardMiB, 'GOMEMLIMIT sits below the hard limit');
    // The queue's bound counts serialized bytes; held in memory a queued span takes several
    // times that (a full 64 MiB queue passed the soft limit; collector.e2e fills the queue and
    // checks memory_limiter never refuses). A quarter of the soft limit leaves room for it.
    const queueMiB = memory.queueBytes / 2 ** 20;
    assert.ok(
      queueMiB <= memory.softMiB / 4,
      `sending_queue ${queueMiB} MiB > a quarter of the ${memory.softMiB} MiB soft limit`,
    );
  });

  void it('routes traces to Langfuse only, metrics to Prometheus, logs nowhere near Langfuse', () => {
    const byType = (ids: string[]) => ids.map((id) => id.split('/')[0]);
    const traces = dict(pipelines.traces, 'traces');
    const metrics = dict(pipelines.metrics, 'metrics');
    const logs = dict(pipelines.logs, 'logs');
    assert.deepEqual(strings(traces.receivers, 'traces.receivers'), ['otlp']);
    assert.deepEqual(byType(strings(traces.exporters, 'traces.exporters')).sort(), [
      'debug',
      'otlp_http',
    ]);
    assert.deepEqual(strings(metrics.receivers, 'metrics.receivers').sort(), [
      'otlp',
      'prometheus',
    ]);
    assert.deepEqual(byType(strings(metrics.exporters, 'metrics.exporters')).sort(), [
      'debug',
      'prometheus',
    ]);
    assert.deepEqual(strings(logs.exporters, 'logs.exporters'), ['debug']);
    // Exactly one exporter anywhere talks to Langfuse.
    const toLangfuse = Object.entries(exporters).filter(([, c]) => {
      const endpoint = isDict(c) ? c.endpoint : undefined;
      return typeof endpoint === 'string' && collectorValue(endpoint).includes('langfuse');
    });
    assert.equal(toLangfuse.length, 1, 'exactly one exporter sends to Langfuse');
  });

  void it('scrapes only compose services, on the ports they listen on', () => {
    const configs = dict(
      dict(receivers.prometheus, 'receivers.prometheus').config,
      'prometheus.config',
    ).scrape_configs;
    assert.ok(
      Array.isArray(configs) && configs.length > 0,
      'prometheus receiver has scrape_configs',
    );
    const scraped = new Set<string>();
    const env = serviceEnv('otel-collector');
    const ownTelemetry = `${env.TELEMETRY_HOST}:${env.TELEMETRY_PORT}`;
    for (const raw of configs) {
      const job = dict(raw, 'scrape_config');
      assert.equal(job.metrics_path ?? '/metrics', '/metrics', `job ${String(job.job_name)}`);
      for (const staticConfig of job.static_configs as unknown[]) {
        for (const raw of strings(dict(staticConfig, 'static_config').targets, 'targets')) {
          const target = collectorValue(raw);
          if (target === ownTelemetry) {
            scraped.add('otel-collector');
            continue;
          }
          assertReachable(`http://${target}`, `scrape target of job ${String(job.job_name)}`);
          scraped.add(new URL(`http://${target}`).hostname);
        }
      }
    }
    assert.deepEqual([...scraped].sort(), ['chatd', 'gateway', 'otel-collector']);
    // The Collector's own telemetry reader is what the otel-collector job scrapes.
    const readers = dict(dict(serviceSection.telemetry, 'telemetry').metrics, 'metrics').readers;
    const prom = dict(
      dict(dict((readers as unknown[])[0], 'reader').pull, 'pull').exporter,
      'exporter',
    ).prometheus;
    const reader = dict(prom, 'prometheus reader');
    assert.equal(`${collectorValue(reader.host)}:${collectorValue(reader.port)}`, ownTelemetry);
  });

  void it('points every exporter endpoint at a compose service and port (or binds 0.0.0.0)', () => {
    for (const [id, raw] of Object.entries(exporters)) {
      const config = isDict(raw) ? raw : {};
      if (config.endpoint === undefined) continue;
      const endpoint = collectorValue(config.endpoint);
      if (/^0\.0\.0\.0:\d+$/.test(endpoint)) continue; // a listen address (prometheus exporter)
      assertReachable(endpoint, `exporter ${id}`);
    }
    const langfuse = dict(exporters['otlp_http/langfuse'], 'otlp_http/langfuse');
    const endpoint = new URL(collectorValue(langfuse.endpoint));
    assert.equal(endpoint.hostname, 'langfuse-web');
    // otlp_http appends /v1/traces, giving Langfuse's /api/public/otel/v1/traces.
    assert.equal(endpoint.pathname.replace(/\/$/, ''), '/api/public/otel');
  });

  void it('sends Basic auth that decodes to the pk:sk Langfuse is seeded with', () => {
    const headers = dict(
      dict(exporters['otlp_http/langfuse'], 'otlp_http/langfuse').headers,
      'headers',
    );
    const authorization = collectorValue(headers.Authorization);
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization);
    assert.ok(match?.[1], `Authorization should be "Basic <base64>", got ${authorization}`);
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const web = serviceEnv('langfuse-web');
    const publicKey = web.LANGFUSE_INIT_PROJECT_PUBLIC_KEY ?? '';
    const secretKey = web.LANGFUSE_INIT_PROJECT_SECRET_KEY ?? '';
    assert.match(publicKey, /^pk-lf-/);
    assert.match(secretKey, /^sk-lf-/);
    assert.equal(decoded, `${publicKey}:${secretKey}`);
    assert.equal(String(headers['x-langfuse-ingestion-version']), '4');
  });
});

void describe('docker-compose.yml', () => {
  void it("sends both services' OTLP and Langfuse-shaped spans to the collector's OTLP HTTP port", () => {
    assert.ok('otel-collector' in services);
    for (const name of SERVICES) {
      const env = serviceEnv(name);
      assert.equal(
        env.OTEL_EXPORTER_OTLP_ENDPOINT,
        `http://otel-collector:${OTLP_HTTP_PORT}`,
        name,
      );
      assert.equal(
        env.LANGFUSE_OTLP_ENDPOINT,
        `http://otel-collector:${OTLP_HTTP_PORT}/v1/traces`,
        name,
      );
      // What the services' exporters send is JSON; the variable must not claim otherwise.
      assert.ok(
        [undefined, 'http/json'].includes(env.OTEL_EXPORTER_OTLP_PROTOCOL),
        `${name} OTEL_EXPORTER_OTLP_PROTOCOL=${env.OTEL_EXPORTER_OTLP_PROTOCOL}`,
      );
      // The ONE route: raw spans stay home, and no service holds Langfuse keys of its own.
      assert.equal(env.OTEL_TRACES_EXPORTER, 'none', name);
      for (const key of ['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY', 'LANGFUSE_BASE_URL']) {
        assert.ok(
          !env[key],
          `${name} must not set ${key} (that would open a second route to Langfuse)`,
        );
      }
      assert.equal(env.HOST, '0.0.0.0', name);
      assert.equal(env.OTEL_SERVICE_NAME, name);
      assert.ok(env.ROSTER_PATH, `${name} sets ROSTER_PATH`);
    }
    const gateway = serviceEnv('gateway');
    assertReachable(gateway.CHATD_URL ?? '', 'gateway CHATD_URL');
    assert.equal(hostPort(gateway.CHATD_URL ?? '').host, 'chatd');
  });

  void it("leaves the validate hop on the gateway's own loopback listener", () => {
    // GATEWAY_SELF_URL would send the hop through the public listener, whose MAX_CONNECTIONS
    // slots clients can hold.
    assert.equal(serviceEnv('gateway').GATEWAY_SELF_URL, undefined);
  });

  void it('requires LAKEHOUSE_HOP_KEY with no default (a key in a public file signs nothing)', () => {
    for (const name of SERVICES) {
      const raw = String(dict(service(name).environment, `${name}.environment`).LAKEHOUSE_HOP_KEY);
      assert.match(raw, /^\$\{LAKEHOUSE_HOP_KEY:\?[^}]+\}$/, `${name}: ${raw}`);
      assert.throws(() => interpolate(raw, {}), /required variable LAKEHOUSE_HOP_KEY/);
      assert.throws(() => interpolate(raw, { LAKEHOUSE_HOP_KEY: '' }), /required variable/);
    }
  });

  void it('gives gateway and chatd one hop key, long enough to start (chatd trusts only the gateway)', () => {
    const keys = SERVICES.map((name) => serviceEnv(name).LAKEHOUSE_HOP_KEY);
    assert.ok(keys[0] !== undefined && keys[0].length >= 16, `LAKEHOUSE_HOP_KEY=${keys[0]}`);
    assert.ok(
      keys.every((k) => k === keys[0]),
      keys.join(' / '),
    );
  });

  void it('publishes only the intended ports, on loopback', () => {
    const published: string[] = [];
    for (const [name, raw] of Object.entries(services)) {
      const ports = dict(raw, name).ports ?? [];
      assert.ok(Array.isArray(ports), `services.${name}.ports`);
      for (const entry of ports) {
        let hostIp = '';
        let hostPortText: string;
        let target: number;
        if (isDict(entry)) {
          hostIp = String(entry.host_ip ?? '');
          hostPortText = String(entry.published ?? '');
          target = Number(entry.target);
        } else {
          const parts = interpolate(String(entry))
            .replace(/\/(tcp|udp)$/, '')
            .split(':');
          target = Number(parts.pop());
          hostPortText = parts.pop() ?? '';
          hostIp = parts.join(':');
        }
        assert.equal(
          hostIp,
          '127.0.0.1',
          `services.${name} publishes ${String(entry)} beyond loopback`,
        );
        assert.ok(
          listeningPorts(name).includes(target),
          `services.${name} publishes ${target}, which it does not listen on`,
        );
        published.push(`${name} ${hostPortText}->${target}`);
      }
    }
    assert.deepEqual(published.sort(), [...INTENDED_PUBLISHED].sort());
  });

  void it('seeds Langfuse headless and gives web and worker the same backing stores', () => {
    const web = serviceEnv('langfuse-web');
    const worker = serviceEnv('langfuse-worker');
    for (const key of [
      'ORG_ID',
      'PROJECT_ID',
      'PROJECT_PUBLIC_KEY',
      'PROJECT_SECRET_KEY',
      'USER_EMAIL',
      'USER_NAME',
      'USER_PASSWORD',
    ]) {
      assert.ok(web[`LANGFUSE_INIT_${key}`], `langfuse-web sets LANGFUSE_INIT_${key}`);
    }
    for (const key of [
      'DATABASE_URL',
      'CLICKHOUSE_URL',
      'CLICKHOUSE_MIGRATION_URL',
      'REDIS_HOST',
      'SALT',
      'ENCRYPTION_KEY',
      'LANGFUSE_S3_EVENT_UPLOAD_BUCKET',
      'LANGFUSE_S3_EVENT_UPLOAD_ENDPOINT',
    ]) {
      assert.ok(web[key], `langfuse-web sets ${key}`);
      assert.equal(worker[key], web[key], `web and worker agree on ${key}`);
    }
    assert.match(web.ENCRYPTION_KEY ?? '', /^[0-9a-f]{64}$/);
    for (const url of [
      web.DATABASE_URL,
      web.CLICKHOUSE_URL,
      web.CLICKHOUSE_MIGRATION_URL,
      web.LANGFUSE_S3_EVENT_UPLOAD_ENDPOINT,
    ]) {
      assertReachable(
        (url ?? '').replace(/^(postgresql|clickhouse):/, 'http:'),
        'Langfuse backing store',
      );
    }
  });

  void it('depends only on defined services, and waits for health only where a health check exists', () => {
    for (const [name, raw] of Object.entries(services)) {
      const dependsOn = dict(raw, name).depends_on;
      if (dependsOn === undefined) continue;
      const entries: [string, unknown][] = Array.isArray(dependsOn)
        ? dependsOn.map((d: unknown) => [String(d), undefined])
        : Object.entries(dict(dependsOn, `${name}.depends_on`));
      for (const [target, condition] of entries) {
        assert.ok(target in services, `${name} depends on unknown service ${target}`);
        const wanted = isDict(condition) ? condition.condition : undefined;
        if (wanted === 'service_healthy') {
          // Explicit here, not inherited from an image, so the condition can't wait forever.
          assert.ok(
            dict(services[target], target).healthcheck !== undefined,
            `${name} waits for ${target} to be healthy, but ${target} has no health check`,
          );
        }
      }
    }
  });

  void it('keeps the session log and the stores on declared named volumes', () => {
    const declared = Object.keys(dict(compose.volumes, 'volumes'));
    const sessionLog = serviceEnv('gateway').SESSION_LOG_PATH ?? '';
    assert.ok(sessionLog.startsWith('/'), 'gateway SESSION_LOG_PATH is an absolute path');
    const mounts = strings(service('gateway').volumes, 'gateway volumes').map((v) => v.split(':'));
    const logMount = mounts.find(
      ([, target]) => target !== undefined && sessionLog.startsWith(`${target}/`),
    );
    assert.ok(logMount, `no volume holds ${sessionLog}`);
    assert.ok(
      declared.includes(logMount[0] ?? ''),
      `the session log volume ${logMount[0]} is a declared named volume`,
    );
    for (const [name, raw] of Object.entries(services)) {
      for (const volume of (dict(raw, name).volumes ?? []) as unknown[]) {
        const source = String(volume).split(':')[0] ?? '';
        if (source.startsWith('.') || source.startsWith('/')) continue; // bind mount (collector config)
        assert.ok(declared.includes(source), `${name} mounts undeclared volume ${source}`);
      }
    }
  });

  void it('builds gateway and chatd from the Dockerfile with the matching SERVICE arg', () => {
    for (const name of SERVICES) {
      const build = dict(service(name).build, `${name}.build`);
      assert.equal(build.context, '.');
      assert.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile');
      assert.equal(dict(build.args, `${name}.build.args`).SERVICE, name);
    }
  });

  void it('health-checks every service whose image has a shell, and explains the others', () => {
    for (const [name, raw] of Object.entries(services)) {
      const healthcheck = dict(raw, name).healthcheck;
      if (name in NO_SHELL) {
        assert.equal(
          healthcheck,
          undefined,
          `${name}: ${NO_SHELL[name]}, so its check could never pass`,
        );
        continue;
      }
      const test = dict(healthcheck, `${name}.healthcheck`).test;
      assert.ok(Array.isArray(test) && test.length > 1, `${name} has a health check command`);
    }
  });

  void it('binds Langfuse web and worker on 0.0.0.0 so their own probes reach them', () => {
    // Docker sets HOSTNAME to the container id; both bind HOSTNAME (worker/src/index.ts).
    for (const name of ['langfuse-web', 'langfuse-worker']) {
      assert.equal(serviceEnv(name).HOSTNAME, '0.0.0.0', name);
      assert.match(JSON.stringify(service(name).healthcheck), /127\.0\.0\.1:(3000|3030)\//);
    }
  });

  void it('runs Langfuse v4 (web and worker one release) on the ClickHouse line its compose pins', () => {
    const web = /^langfuse\/langfuse:(4\.\d+\.\d+)$/.exec(String(service('langfuse-web').image));
    assert.ok(web?.[1], `langfuse-web ${String(service('langfuse-web').image)}`);
    assert.equal(String(service('langfuse-worker').image), `langfuse/langfuse-worker:${web[1]}`);
    assert.match(String(service('clickhouse').image), /^clickhouse\/clickhouse-server:25\.12\./);
  });

  void it('pins every image to an exact release', () => {
    for (const [name, raw] of Object.entries(services)) {
      // Built here from the Dockerfile, whose base image is checked below.
      if (dict(raw, name).build !== undefined) continue;
      const image = String(dict(raw, name).image ?? '');
      const at = image.lastIndexOf(':');
      const repo = at > image.lastIndexOf('/') ? image.slice(0, at) : image;
      const tag = at > image.lastIndexOf('/') ? image.slice(at + 1) : '';
      const exact = TWO_PART_RELEASES.has(repo) ? /^\d+\.\d+$/ : EXACT_TAG;
      assert.match(tag, exact, `${name}: ${image} is not pinned to an exact release`);
    }
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(readRepoFile('Dockerfile'))?.[1] ?? '';
    assert.match(
      nodeImage,
      /^node:24\.\d+\.\d+-/,
      'the base image pins an exact Node 24 (Active LTS) release',
    );
  });

  void it('gives gateway and chatd a stop grace period covering their whole shutdown path', () => {
    for (const name of SERVICES) {
      const file = `services/${name}/src/server.ts`;
      const source = readRepoFile(file);
      const steps = SHUTDOWN_PATHS[name];
      for (const { step, code } of steps)
        assert.ok(source.includes(code), `${file} no longer waits with \`${code}\` (${step})`);
      // Any other timer, delay or flush is a wait this test does not know the bound of.
      const waits = source.match(/\bsetTimeout\(|\bdelay\(|\.shutdown\(\)/g) ?? [];
      assert.equal(
        waits.length,
        steps.length,
        `${file}: a wait on the shutdown path with no bound here`,
      );
      const worst = steps.reduce((sum, s) => sum + s.bound(), 0);
      const grace = durationMs(String(service(name).stop_grace_period ?? '10s'));
      assert.ok(
        grace >= worst,
        `${name}: stop_grace_period ${grace} ms < ${steps.map((s) => `${s.step} ${s.bound()}`).join(' + ')} ms`,
      );
    }
  });

  void it('stops the collector after both services, with time for one last send of its queue', () => {
    const dependsOn = (name: string): string[] => {
      const raw = dict(services[name], name).depends_on;
      if (raw === undefined) return [];
      return Array.isArray(raw) ? raw.map(String) : Object.keys(dict(raw, `${name}.depends_on`));
    };
    const upstream = (start: string): Set<string> => {
      const seen = new Set<string>();
      const queue = [start];
      while (queue.length > 0) {
        for (const next of dependsOn(queue.shift() ?? '')) {
          if (!seen.has(next)) queue.push(next);
          seen.add(next);
        }
      }
      return seen;
    };
    // Compose stops a service only after everything that depends on it.
    for (const name of SERVICES)
      assert.ok(upstream(name).has('otel-collector'), `${name} depends on otel-collector`);
    // On shutdown the exporter sends what it holds once, without retries, each request bounded
    // by its timeout and all of them in parallel.
    const langfuse = dict(exporters['otlp_http/langfuse'], 'otlp_http/langfuse');
    const timeout = durationMs(String(langfuse.timeout ?? '30s'));
    const queue = dict(langfuse.sending_queue, 'sending_queue');
    const requests = Math.ceil(
      Number(queue.queue_size) / Number(dict(queue.batch, 'sending_queue.batch').max_size),
    );
    assert.ok(
      requests <= Number(queue.num_consumers ?? 10),
      'one round of sends empties the queue',
    );
    const grace = durationMs(String(service('otel-collector').stop_grace_period ?? '10s'));
    assert.ok(
      grace > timeout,
      `otel-collector: stop_grace_period ${grace} ms <= send timeout ${timeout} ms`,
    );
  });

  void it('never makes the services wait for Langfuse or its stores', () => {
    const dependsOn = (name: string): string[] => {
      const raw = dict(services[name], name).depends_on;
      if (raw === undefined) return [];
      return Array.isArray(raw) ? raw.map(String) : Object.keys(dict(raw, `${name}.depends_on`));
    };
    for (const start of [...SERVICES, 'otel-collector']) {
      const seen = new Set<string>();
      const queue = [start];
      while (queue.length > 0) {
        for (const next of dependsOn(queue.shift() ?? '')) {
          if (seen.has(next)) continue;
          seen.add(next);
          queue.push(next);
        }
      }
      const blocking = [...seen].filter((n) => LANGFUSE_SIDE.includes(n));
      assert.deepEqual(blocking, [], `${start} waits (transitively) for ${blocking.join(', ')}`);
    }
  });

  void it('lets chatd reach a provider on the host, as the Ollama example needs', () => {
    const example = readRepoFile('deploy/.env.example');
    assert.match(example, /host\.docker\.internal/);
    assert.match(
      example,
      /OLLAMA_HOST=0\.0\.0\.0/,
      'the example says Ollama must listen beyond 127.0.0.1',
    );
    assert.ok(
      strings(service('chatd').extra_hosts, 'chatd.extra_hosts').includes(
        'host.docker.internal:host-gateway',
      ),
      'host.docker.internal resolves on Linux only through extra_hosts',
    );
  });
});

/** Runs test/compose-check (compose-go v2, the loader Docker Compose v2 uses) on `file`. */
function composeCheck(
  binary: string,
  file: string,
  env: Readonly<Record<string, string>> = COMPOSE_TEST_ENV,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(binary, [file], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    // No .env and only the required key: interpolation falls back to the file's defaults.
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void describe(
  'docker-compose.yml as Docker Compose v2 loads it (compose-go)',
  { skip: requires(PREREQUISITES.go) },
  () => {
    let dir: string;
    let binary: string;
    let project: Record<string, unknown>;

    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-compose-check-'));
      binary = path.join(dir, 'compose-check');
      // Modules at the versions in test/compose-check/go.sum, from the Go module proxy once.
      const build = spawnSync('go', ['build', '-o', binary, '.'], {
        cwd: path.join(REPO_ROOT, 'test/compose-check'),
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
      });
      assert.equal(build.status, 0, `go build test/compose-check: ${build.stderr}`);
      const loaded = composeCheck(binary, path.join(REPO_ROOT, 'docker-compose.yml'));
      assert.equal(loaded.status, 0, `compose-go refused docker-compose.yml:\n${loaded.stderr}`);
      project = dict(JSON.parse(loaded.stdout), 'the loaded project');
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    void it("resolves every service's environment exactly as these checks read it", () => {
      const loaded = dict(project.services, 'services');
      assert.deepEqual(Object.keys(loaded).sort(), Object.keys(services).sort());
      for (const name of Object.keys(services)) {
        const environment = dict(dict(loaded[name], name).environment ?? {}, `${name}.environment`);
        const resolved = Object.fromEntries(
          Object.entries(environment).map(([k, v]) => [k, v === null ? '' : String(v)]),
        );
        assert.deepEqual(
          resolved,
          serviceEnv(name),
          `${name}: merge keys and \${X:-default} as Compose v2 resolves them`,
        );
      }
    });

    void it('agrees on images, dependencies, grace periods and the collector memory limit', () => {
      const loaded = dict(project.services, 'services');
      for (const name of Object.keys(services)) {
        const ours = dict(services[name], name);
        const theirs = dict(loaded[name], name);
        assert.equal(theirs.image, ours.image, `${name} image`);
        const deps = (raw: unknown) =>
          raw === undefined
            ? []
            : Array.isArray(raw)
              ? raw.map(String).sort()
              : Object.keys(dict(raw, 'depends_on')).sort();
        assert.deepEqual(deps(theirs.depends_on), deps(ours.depends_on), `${name} depends_on`);
        if (ours.stop_grace_period !== undefined)
          assert.equal(
            durationMs(String(theirs.stop_grace_period)),
            durationMs(String(ours.stop_grace_period)),
            `${name} stop_grace_period`,
          );
      }
      const limits = dict(
        dict(
          dict(dict(loaded['otel-collector'], 'otel-collector').deploy, 'deploy').resources,
          'resources',
        ).limits,
        'limits',
      );
      assert.equal(Number(limits.memory), collectorMemory().containerMiB * 2 ** 20);
    });

    void it('refuses to load without LAKEHOUSE_HOP_KEY, naming it', () => {
      const result = composeCheck(binary, path.join(REPO_ROOT, 'docker-compose.yml'), {});
      assert.equal(result.status, 1, result.stdout.slice(0, 200));
      assert.match(result.stderr, /LAKEHOUSE_HOP_KEY/);
      assert.match(result.stderr, /set LAKEHOUSE_HOP_KEY to a secret/);
    });

    void it('refuses a file Compose would refuse (the check is not vacuous)', () => {
      const broken = path.join(dir, 'docker-compose.yml');
      const text = readRepoFile('docker-compose.yml');
      const edited = text.replace(/stop_grace_period: \S+/, 'stop_grace_period: soon');
      assert.notEqual(edited, text);
      writeFileSync(broken, edited);
      const result = composeCheck(binary, broken);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /stop_grace_period/);
    });
  },
);

void describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stages.at(-1);

  void it('ends in a glibc runtime stage that runs as a non-root user with a health check', () => {
    assert.ok(runtime && stages.length >= 2, 'multi-stage build');
    const nodeImage = /^ARG NODE_IMAGE=(\S+)/m.exec(readRepoFile('Dockerfile'))?.[1];
    assert.ok(
      nodeImage && !/alpine/.test(nodeImage),
      `base image ${nodeImage} must be glibc (DuckDB's prebuilt addon)`,
    );
    const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args);
    assert.ok(
      users.length > 0 && !['root', '0'].includes(users.at(-1) ?? ''),
      'runtime USER is non-root',
    );
    const healthcheck = runtime.instructions.find((i) => i.op === 'HEALTHCHECK');
    assert.ok(
      healthcheck && /\bnode\b/.test(healthcheck.args) && /\/healthz/.test(healthcheck.args),
    );
    const exposed = runtime.instructions
      .filter((i) => i.op === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/));
    for (const name of SERVICES)
      assert.ok(exposed.includes(serviceEnv(name).PORT ?? ''), `EXPOSE ${name}'s port`);
  });

  void it("installs only the one service's production dependencies in its image", () => {
    for (const name of SERVICES) {
      const command = imageInstallCommand(name).join(' ');
      assert.match(command, /--omit=dev/);
      assert.ok(command.includes(`--workspace=services/${name}`), command);
      assert.match(command, /--include-workspace-root=false/);
    }
    assert.ok(
      dockerfileStage('deps').instructions.some(
        (i) => i.op === 'ARG' && i.args.startsWith('SERVICE'),
      ),
    );
    // Bench-only and dev-only tools are root devDependencies, never a runtime workspace's.
    for (const dir of ['packages', 'services']) {
      for (const workspace of readdirSync(path.join(REPO_ROOT, dir))) {
        const file = path.join(REPO_ROOT, dir, workspace, 'package.json');
        if (!existsSync(file)) continue;
        const deps = Object.keys(
          (JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: object }).dependencies ?? {},
        );
        assert.ok(
          !deps.includes('@langfuse/otel'),
          `${dir}/${workspace} depends on the bench-only @langfuse/otel`,
        );
      }
    }
  });

  for (const name of SERVICES) {
    void it(`runs ${name}'s package.json "start" script from services/${name}`, () => {
      assert.ok(runtime);
      const pkg = JSON.parse(readRepoFile(`services/${name}/package.json`)) as {
        scripts?: Record<string, string>;
      };
      const start = pkg.scripts?.start;
      assert.ok(typeof start === 'string', `services/${name}/package.json has a "start" script`);
      const cmd = runtime.instructions.filter((i) => i.op === 'CMD').at(-1);
      assert.ok(cmd, 'runtime stage has a CMD');
      const argv = JSON.parse(cmd.args) as unknown;
      assert.ok(Array.isArray(argv), 'CMD uses the exec (JSON) form');
      assert.deepEqual(argv, start.trim().split(/\s+/));

      const argDefault = runtime.instructions.find(
        (i) => i.op === 'ARG' && i.args.startsWith('SERVICE'),
      );
      assert.ok(argDefault, 'runtime stage declares ARG SERVICE');
      const workdir = runtime.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '';
      const resolved = workdir.replace(/\$\{SERVICE\}|\$SERVICE\b/g, name);
      assert.ok(path.posix.isAbsolute(resolved), `WORKDIR ${workdir} is absolute`);
      assert.equal(path.posix.basename(resolved), name);
      assert.equal(path.posix.basename(path.posix.dirname(resolved)), 'services');
    });
  }
});
