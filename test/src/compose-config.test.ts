// Static checks of the container stack: docker-compose.yml, otel-collector.yaml and the
// Dockerfile must agree with each other and with the services' start scripts. No Docker engine
// needed; `docker-compose config -q` runs only when docker-compose is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
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

/** Component types that exist in otelcol-contrib 0.159.0 under these (non-deprecated) names. */
const KNOWN_COMPONENTS = {
  receivers: ['otlp', 'prometheus'],
  processors: ['memory_limiter', 'batch'],
  exporters: ['otlp_http', 'otlp_grpc', 'prometheus', 'debug'],
  extensions: ['health_check'],
} as const;

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dict(value: unknown, what: string): Dict {
  assert.ok(isDict(value), `${what} should be a mapping`);
  return value;
}

function strings(value: unknown, what: string): string[] {
  assert.ok(
    Array.isArray(value) && value.every((v) => typeof v === 'string'),
    `${what} should be a list of strings`,
  );
  return value;
}

function readRepoFile(relative: string): string {
  return readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

// `merge: true` resolves the `<<:` keys the compose file uses to share env blocks.
const compose = dict(
  parse(readRepoFile('docker-compose.yml'), { merge: true }),
  'docker-compose.yml',
);
const collector = dict(parse(readRepoFile('otel-collector.yaml')), 'otel-collector.yaml');
const services = dict(compose.services, 'services');

/** Compose interpolation with defaults only (`${X:-d}`, `${X-d}`, `${X}`, `$$`): what a clean checkout sees. */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (match, _name, fallback: string | undefined) => (match === '$$' ? '$' : (fallback ?? '')),
  );
}

function service(name: string): Dict {
  return dict(services[name], `services.${name}`);
}

/** A service's environment as resolved strings (map or `KEY=value` list form). */
function serviceEnv(name: string): Record<string, string> {
  const raw = service(name).environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line: unknown) => {
        const text = String(line);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(dict(raw, `services.${name}.environment`));
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v === null ? '' : String(v))]));
}

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
const OTLP_HTTP_PORT = portOf(String(dict(otlpProtocols.http, 'otlp http').endpoint));
const OTLP_GRPC_PORT = portOf(String(dict(otlpProtocols.grpc, 'otlp grpc').endpoint));

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
      if (id.split('/')[0] === 'prometheus') ports.push(portOf(String(dict(config, id).endpoint)));
    }
    for (const [id, config] of Object.entries(extensions)) {
      if (id.split('/')[0] === 'health_check')
        ports.push(portOf(String(dict(config, id).endpoint)));
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

/** Dockerfile instructions (continuations joined, comments dropped) grouped by stage. */
function dockerfileStages(): { from: string; instructions: { op: string; args: string }[] }[] {
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
  const stages: { from: string; instructions: { op: string; args: string }[] }[] = [];
  for (const text of logical) {
    const space = text.search(/\s/);
    const op = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const args = space < 0 ? '' : text.slice(space).trim();
    if (op === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
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
    assert.equal(dict(extensions.health_check, 'health_check').endpoint, '0.0.0.0:13133');
  });

  void it('uses component names that exist in the pinned contrib image', () => {
    const image = String(service('otel-collector').image);
    assert.match(image, /^otel\/opentelemetry-collector-contrib:0\.159\.0$/);
    const sections = { receivers, processors, exporters, extensions };
    for (const kind of Object.keys(KNOWN_COMPONENTS) as (keyof typeof KNOWN_COMPONENTS)[]) {
      for (const id of Object.keys(sections[kind])) {
        const type = id.split('/')[0] ?? id;
        assert.ok(
          (KNOWN_COMPONENTS[kind] as readonly string[]).includes(type),
          `${kind} ${id}: type ${type} is unknown or a deprecated alias in 0.159.0 (e.g. otlphttp -> otlp_http)`,
        );
      }
    }
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
    for (const raw of configs) {
      const job = dict(raw, 'scrape_config');
      assert.equal(job.metrics_path ?? '/metrics', '/metrics', `job ${String(job.job_name)}`);
      for (const staticConfig of job.static_configs as unknown[]) {
        for (const target of strings(dict(staticConfig, 'static_config').targets, 'targets')) {
          assertReachable(`http://${target}`, `scrape target of job ${String(job.job_name)}`);
          scraped.add(new URL(`http://${target}`).hostname);
        }
      }
    }
    assert.deepEqual([...scraped].sort(), ['chatd', 'gateway']);
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
      assert.match(env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '', /^http\/(protobuf|json)$/, name);
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

  void it('is accepted by `docker-compose config -q`', (t) => {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.error || probe.status !== 0) {
      t.skip(
        'docker-compose is not installed (apt-get install -y docker-compose); static checks above still ran',
      );
      return;
    }
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(
      result.status,
      0,
      `docker-compose config -q failed:\n${result.stderr}${result.stdout}`,
    );
    assert.equal(result.stdout, '');
  });
});

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
