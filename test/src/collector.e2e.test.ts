// The compose path for real: the services, the OpenTelemetry Collector (built from
// deploy/collector/manifest.yaml, the release the compose image pins) running the project's
// otel-collector.yaml, a real Prometheus, and a Langfuse-shaped endpoint with Langfuse's route
// rules. Only addresses differ from compose, through the same ${env:…} variables compose sets.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import { COLLECTOR_PREREQUISITE, startCollector, type CollectorHandle } from './collector.js';
import { collectorMemory, composeEnv, readRepoFile } from './compose-file.js';
import { eventually, fillRequest, freePort, postJson, startStack, type Stack } from './harness.js';
import { startLangfuseOtlpEndpoint, type LangfuseOtlpEndpoint } from './langfuse-otlp-endpoint.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

/** Collector variables that hold addresses: the only ones the test changes. */
const COLLECTOR_ADDRESS_VARS = [
  'OTLP_GRPC_ENDPOINT',
  'OTLP_HTTP_ENDPOINT',
  'HEALTH_CHECK_ENDPOINT',
  'PROMETHEUS_EXPORTER_ENDPOINT',
  'TELEMETRY_HOST',
  'TELEMETRY_PORT',
  'GATEWAY_METRICS_TARGET',
  'CHATD_METRICS_TARGET',
  'LANGFUSE_OTEL_ENDPOINT',
] as const;

/** Service variables that hold addresses or paths (the harness sets its own). */
const SERVICE_ADDRESS_VARS = [
  'HOST',
  'PORT',
  'ROSTER_PATH',
  'CHATD_URL',
  'GATEWAY_SELF_URL',
  'SESSION_LOG_PATH',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'LANGFUSE_OTLP_ENDPOINT',
] as const;

function withoutKeys(env: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !keys.includes(k)));
}

/** The Langfuse exporter, as the Collector's own metrics label it. */
const LANGFUSE_EXPORTER = { exporter: 'otlp_http/langfuse' } as const;

/**
 * Sum of the Prometheus-text samples named `name` whose labels include `labels`, or undefined
 * when there is no such series (the Collector records some counters only once they are > 0).
 */
function sampleSum(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Like sampleSum, but the series must exist. */
function requireSample(text: string, name: string, labels: Record<string, string> = {}): number {
  const value = sampleSum(text, name, labels);
  assert.ok(value !== undefined, `no ${name}${JSON.stringify(labels)} series`);
  return value;
}

/** Spans one session exports: its root, and per attempt the attempt, chat generation and validate guardrail. */
const spansOfSession = (attempts: number): number => 1 + 3 * attempts;

/** One OTLP/JSON export of `count` small spans (8 short attributes each, like an attempt span). */
function fillerExport(batch: number, count: number): string {
  const spans = Array.from({ length: count }, (_, i) => {
    const id = batch * count + i + 1;
    return {
      traceId: `f${id.toString(16).padStart(31, '0')}`,
      spanId: id.toString(16).padStart(16, '0'),
      name: 'filler',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000001000000',
      attributes: Array.from({ length: 8 }, (_, a) => ({
        key: `filler.attribute.${a}`,
        value: { stringValue: `${a}`.repeat(40) },
      })),
    };
  });
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'filler' } }] },
        scopeSpans: [{ scope: { name: 'filler' }, spans }],
      },
    ],
  });
}

/** A markdown section's table rows (cells trimmed), from `heading` to the next heading. */
function markdownTable(file: string, heading: string): string[][] {
  const text = readRepoFile(file);
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${file} has a "${heading}" section`);
  const rest = text.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-| ]+\|$/.test(l))
    .slice(1)
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

/** The metric names of the root README's metrics table, histograms by their `_count` series. */
function readmeMetricSeries(): string[] {
  return markdownTable('README.md', '## Metrics').flatMap(([cell = '']) =>
    [...cell.matchAll(/`((?:lakehouse|gen_ai_client|http_server)_[a-z_]+)/g)].map((m) =>
      cell.includes('(histogram') ? `${m[1]}_count` : (m[1] ?? ''),
    ),
  );
}

/** The Grafana queries of deploy/README.md's table of names through the collector. */
function deployReadmeQueries(): string[] {
  return markdownTable('deploy/README.md', '### Metric names through the collector').map(
    ([cell = '']) => /^`(.+)`$/.exec(cell)?.[1]?.replace(/\\\|/g, '|') ?? cell,
  );
}

const skip = requires(COLLECTOR_PREREQUISITE);
// Only the cases that query Prometheus need it; the trace, outage and full-queue cases run without.
const withoutPrometheus = requires(PREREQUISITES.prometheus);

void describe('the compose path through a real Collector', { skip }, () => {
  let endpoint: LangfuseOtlpEndpoint;
  let stack: Stack;
  let collector: CollectorHandle;
  let prometheus: Prometheus | undefined;
  let telemetryUrl: string;
  let exporterUrl: string;
  let collectorHttpUrl: string;
  const collectorEnv: Record<string, string> = {};

  before(async () => {
    // The keys compose seeds Langfuse with; the Collector's LANGFUSE_AUTH is compose's own.
    const web = composeEnv('langfuse-web');
    endpoint = await startLangfuseOtlpEndpoint({
      publicKey: web.LANGFUSE_INIT_PROJECT_PUBLIC_KEY ?? '',
      secretKey: web.LANGFUSE_INIT_PROJECT_SECRET_KEY ?? '',
    });
    const [grpc, http, health, exporter, telemetry] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    const collectorHttp = `http://127.0.0.1:${http}`;
    const serviceEnv = (name: 'gateway' | 'chatd') => ({
      ...withoutKeys(composeEnv(name), SERVICE_ADDRESS_VARS),
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorHttp,
      LANGFUSE_OTLP_ENDPOINT: `${collectorHttp}/v1/traces`,
      GATEWAY_SELF_URL: '',
    });
    stack = await startStack({ chatdEnv: serviceEnv('chatd'), gatewayEnv: serviceEnv('gateway') });

    const compose = composeEnv('otel-collector');
    for (const name of COLLECTOR_ADDRESS_VARS)
      assert.ok(name in compose, `docker-compose.yml sets ${name} for the collector`);
    const addresses: Record<(typeof COLLECTOR_ADDRESS_VARS)[number], string> = {
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      HEALTH_CHECK_ENDPOINT: `127.0.0.1:${health}`,
      PROMETHEUS_EXPORTER_ENDPOINT: `127.0.0.1:${exporter}`,
      TELEMETRY_HOST: '127.0.0.1',
      TELEMETRY_PORT: String(telemetry),
      GATEWAY_METRICS_TARGET: new URL(stack.gateway.url).host,
      CHATD_METRICS_TARGET: new URL(stack.chatd.url).host,
      LANGFUSE_OTEL_ENDPOINT: endpoint.otlpEndpoint,
    };
    Object.assign(collectorEnv, compose, addresses);
    telemetryUrl = `http://127.0.0.1:${telemetry}/metrics`;
    exporterUrl = `http://127.0.0.1:${exporter}/metrics`;
    collectorHttpUrl = collectorHttp;
    // memory_limiter takes its percentages of the cgroup's limit in the container, and of the
    // host's memory here; limit_mib (which takes precedence) gives it the container's numbers.
    const memory = collectorMemory();
    collector = await startCollector(collectorEnv, `http://127.0.0.1:${health}/`, [
      `--set=processors::memory_limiter::limit_mib=${Math.floor(memory.hardMiB)}`,
      `--set=processors::memory_limiter::spike_limit_mib=${Math.ceil(memory.spikeMiB)}`,
    ]);
    assert.ok(
      collector.lines.some(
        (l) =>
          l.includes('Memory limiter configured') &&
          l.includes(`"limit_mib": ${Math.floor(memory.hardMiB)}`),
      ),
      'memory_limiter runs with the container limits',
    );

    // Prometheus scrapes only the Collector's exporter. honor_labels keeps the job/instance the
    // Collector carries over from its own scrape (job="gateway"), as a Grafana user expects.
    if (withoutPrometheus === false)
      prometheus = await startPrometheus([
        { name: 'otel-collector-exporter', target: `127.0.0.1:${exporter}`, honorLabels: true },
      ]);
  });

  after(async () => {
    await prometheus?.stop();
    await collector?.stop();
    await stack?.stop();
    await endpoint?.close();
  });

  const query = (expr: string) => {
    assert.ok(prometheus, 'Prometheus is running');
    return prometheus.query(expr);
  };
  const text = async (url: string) => (await fetch(url)).text();
  /** The Collector's own metrics, read where its otel-collector scrape job reads them. */
  const telemetry = () => text(telemetryUrl);

  async function iterate(model: string, maxIterations = 2): Promise<string> {
    const response = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest(model, { max_iterations: maxIterations }),
    );
    assert.ok([200, 422].includes(response.status), JSON.stringify(response.body));
    return String(response.body.trace_id);
  }

  /** Waits for one complete Langfuse tree per session: one root, `attempts` attempts, no dangling parent. */
  async function treesArrive(sessions: Map<string, number>, timeoutMs: number): Promise<void> {
    await eventually(
      () => {
        const traces = endpoint.traces();
        for (const [traceId, attempts] of sessions) {
          const tree = traces.get(traceId);
          if (!tree || tree.roots.length !== 1 || tree.dangling.length > 0) return undefined;
          const attemptNodes = tree.roots[0]?.children.filter((c) =>
            c.span.name.startsWith('attempt'),
          );
          if (attemptNodes?.length !== attempts) return undefined;
          // Every attempt holds its chat generation (from chatd) and its validate guardrail.
          if (!attemptNodes.every((a) => a.children.some((c) => c.type === 'generation')))
            return undefined;
        }
        return true;
      },
      timeoutMs,
      `one complete tree for each of ${sessions.size} sessions at the Langfuse-shaped endpoint`,
    );
  }

  void it('runs with the compose environment, sending to Langfuse the way Langfuse takes it', async () => {
    const sessions = new Map<string, number>([
      [await iterate('clean'), 1],
      [await iterate('phantom-once'), 2],
    ]);
    await treesArrive(sessions, 30_000);
    const traces = endpoint.traces();
    for (const [traceId, attempts] of sessions) {
      const root = traces.get(traceId)?.roots[0];
      assert.equal(root?.span.service, 'gateway');
      assert.equal(root?.span.attributes['langfuse.trace.name'], 'iterate:fill');
      assert.equal(
        endpoint.spans.filter((s) => s.traceId === traceId).length,
        spansOfSession(attempts),
      );
    }
    const accepted = endpoint.requests.filter((r) => r.status === 200 && r.spans > 0);
    assert.ok(accepted.length > 0);
    for (const request of accepted) {
      // The Collector's otlp_http defaults (protobuf, gzip) plus the header otel-collector.yaml adds.
      assert.equal(request.contentType, 'application/x-protobuf');
      assert.equal(request.contentEncoding, 'gzip');
      assert.equal(request.ingestionVersion, '4');
    }
    assert.equal(
      endpoint.requests.filter((r) => r.status !== 200).length,
      0,
      JSON.stringify(endpoint.requests.filter((r) => r.status !== 200)),
    );
  });

  void it(
    "serves both services' metrics through the Collector to Prometheus under the README's names",
    { skip: withoutPrometheus },
    async () => {
      for (const model of ['clean', 'phantom-once', 'phantom-always']) await iterate(model);
      const gatewayUp = await eventually(
        async () => {
          const up = await query('up{job=~"gateway|chatd"}');
          return up.length === 2 && up.every((s) => s.value[1] === '1') ? up : undefined;
        },
        60_000,
        "the Collector's scrape of both services, seen through Prometheus",
      );
      assert.equal(gatewayUp.length, 2);

      // Counters keep their _total; histograms keep _bucket/_sum/_count; job is the service.
      const sessions = await eventually(
        async () => {
          const result = await query(
            'sum by (final_verdict) (lakehouse_iterate_sessions_total{job="gateway", kind="fill"})',
          );
          const total = result.reduce((n, s) => n + Number(s.value[1]), 0);
          return total >= 5 ? result : undefined;
        },
        60_000,
        'lakehouse_iterate_sessions_total through the Collector',
      );
      const byVerdict = Object.fromEntries(
        sessions.map((s) => [s.metric.final_verdict, Number(s.value[1])]),
      );
      assert.ok((byVerdict.accepted ?? 0) >= 4, JSON.stringify(byVerdict));
      assert.ok((byVerdict.max_iter_exhausted ?? 0) >= 1, JSON.stringify(byVerdict));

      const tokens = await query(
        'sum by (gen_ai_token_type) (gen_ai_client_token_usage_count{job="chatd"})',
      );
      assert.deepEqual(tokens.map((s) => s.metric.gen_ai_token_type).sort(), ['input', 'output']);
      for (const name of [
        'gen_ai_client_operation_duration_bucket{job="chatd"}',
        'lakehouse_iterate_attempts_count{job="gateway"}',
        'lakehouse_validation_failures_total{job="gateway", category="consistency"}',
        'http_server_request_duration_count{job="gateway"}',
        'http_server_request_duration_count{job="chatd"}',
      ]) {
        const result = await query(name);
        assert.ok(result.length > 0, `${name} through the Collector`);
      }
      // The Collector's own health is there too: what to watch for a Langfuse outage. Its job
      // label is the Collector's service name (the binary's), so select by exporter.
      const queue = await eventually(
        async () => {
          const result = await query('otelcol_exporter_queue_size{exporter="otlp_http/langfuse"}');
          return result.length > 0 ? result : undefined;
        },
        60_000,
        "the Collector's own metrics through its exporter",
      );
      assert.equal(queue[0]?.metric.data_type, 'traces');
      const exported = await (await fetch(exporterUrl)).text();
      assert.match(exported, /^lakehouse_iterate_sessions_total\{/m);
    },
  );

  /** Waits until the Collector has handed Langfuse everything it holds; returns its sent_spans. */
  async function drained(): Promise<number> {
    return eventually(
      async () => {
        const t = await telemetry();
        const queued = requireSample(t, 'otelcol_exporter_queue_size', LANGFUSE_EXPORTER);
        const sent = requireSample(t, 'otelcol_exporter_sent_spans', LANGFUSE_EXPORTER);
        return queued === 0 && sent === endpoint.spans.length ? sent : undefined;
      },
      120_000,
      'an empty Collector queue, every span it sent accepted by the endpoint',
    );
  }

  const gatewayMetrics = () => text(`${stack.gateway.url}/metrics`);

  void it('rides out a Langfuse outage: the Collector queues the spans and delivers every one when it is back', async () => {
    const sentBefore = await drained();
    const droppedBefore =
      sampleSum(await gatewayMetrics(), 'lakehouse_langfuse_spans_dropped_total') ?? 0;
    const logLinesBefore = collector.lines.length;
    await endpoint.stop();
    const during = new Map<string, number>();
    for (const model of ['phantom-once', 'clean', 'phantom-once']) {
      // Answered as usual: nothing in the services waits for Langfuse.
      during.set(await iterate(model), model === 'clean' ? 1 : 2);
    }
    const outageSpans = [...during.values()].reduce((n, a) => n + spansOfSession(a), 0);
    // The precondition: the Collector holds these spans in its queue and retries them.
    await eventually(
      () =>
        collector.lines
          .slice(logLinesBefore)
          .some((l) => l.includes('Exporting failed. Will retry the request after interval.'))
          ? true
          : undefined,
      30_000,
      'the Collector to fail an export and keep it for a retry',
    );
    await eventually(
      async () =>
        requireSample(await telemetry(), 'otelcol_exporter_queue_size', LANGFUSE_EXPORTER) > 0
          ? true
          : undefined,
      30_000,
      "the outage's spans waiting in the Collector's queue",
    );
    for (const traceId of during.keys())
      assert.equal(
        endpoint.traces().has(traceId),
        false,
        'nothing arrived while Langfuse was down',
      );
    const meanwhile = await telemetry();
    // Recorded only once they are > 0: absent means none.
    for (const name of [
      'otelcol_exporter_send_failed_spans',
      'otelcol_exporter_enqueue_failed_spans',
    ])
      assert.equal(
        sampleSum(meanwhile, name, LANGFUSE_EXPORTER) ?? 0,
        0,
        `${name} during the outage`,
      );

    const acceptedBefore = endpoint.spans.length;
    await endpoint.restart();
    // Retries back off up to 30 s (retry_on_failure defaults), so allow for a couple of rounds.
    await treesArrive(during, 90_000);
    const sentAfter = await drained();
    const arrived = endpoint.spans.slice(acceptedBefore);
    assert.equal(
      arrived.filter((s) => during.has(s.traceId)).length,
      outageSpans,
      "every span of the outage's sessions arrived",
    );
    assert.equal(
      sentAfter - sentBefore,
      arrived.length,
      'sent_spans counts what Langfuse accepted',
    );
    assert.ok(sentAfter - sentBefore >= outageSpans);
    const droppedAfter =
      sampleSum(await gatewayMetrics(), 'lakehouse_langfuse_spans_dropped_total') ?? 0;
    assert.equal(droppedAfter, droppedBefore, 'the services dropped no span during the outage');
  });

  void it('refuses spans once its queue is full, within its memory limits: scraping goes on, the services count the drop', async (t) => {
    const memory = collectorMemory();
    await drained();
    await endpoint.stop();
    const capacity = requireSample(
      await telemetry(),
      'otelcol_exporter_queue_capacity',
      LANGFUSE_EXPORTER,
    );
    assert.equal(capacity, memory.queueBytes);
    // Fill the queue from outside, as a burst of traffic during a long outage would.
    let batch = 0;
    const post = (spans: number) =>
      fetch(`${collectorHttpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: fillerExport(batch++, spans),
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    assert.equal(await post(500), 200);
    const batchBytes = requireSample(
      await telemetry(),
      'otelcol_exporter_queue_size',
      LANGFUSE_EXPORTER,
    );
    assert.ok(batchBytes > 0);
    // Large exports until one is refused, then smaller ones into the gap it left, down to one
    // span: then even a one-attempt session's export no longer fits.
    const statuses = new Set<number>();
    for (const spans of [500, 50, 5, 1]) {
      for (let tries = 0; ; tries++) {
        assert.ok(tries <= Math.ceil(capacity / batchBytes) + 20, 'the queue never filled');
        const status = await post(spans);
        statuses.add(status);
        if (status !== 200) break;
      }
    }
    // The refusal is the full queue's, counted by the Collector (the receiver answers 503).
    const full = await telemetry();
    assert.deepEqual([...statuses].sort(), [200, 503]);
    assert.ok(
      requireSample(full, 'otelcol_exporter_queue_size', LANGFUSE_EXPORTER) > capacity - batchBytes,
    );
    assert.ok(requireSample(full, 'otelcol_exporter_enqueue_failed_spans', LANGFUSE_EXPORTER) > 0);

    // A session still answers; its spans are refused by the Collector and the services count them.
    const exportFailed = { reason: 'export_failed' };
    const dropped = async () =>
      sampleSum(await gatewayMetrics(), 'lakehouse_langfuse_spans_dropped_total', exportFailed) ??
      0;
    const droppedBefore = await dropped();
    const sessionsAt = async () =>
      sampleSum(await text(exporterUrl), 'lakehouse_iterate_sessions_total', { job: 'gateway' }) ??
      0;
    const sessionsBefore = await sessionsAt();
    await iterate('clean');
    await eventually(
      async () => ((await dropped()) > droppedBefore ? true : undefined),
      60_000,
      'the gateway to count its refused spans in lakehouse_langfuse_spans_dropped_total',
    );
    // Scraping goes on with the queue full: the new session reaches the Prometheus exporter.
    await eventually(
      async () => ((await sessionsAt()) > sessionsBefore ? true : undefined),
      60_000,
      "the session in the Collector's scrape while its queue is full",
    );
    // memory_limiter never had to refuse anything: a full queue fits below its soft limit.
    const after = await telemetry();
    const heapMiB = requireSample(after, 'otelcol_process_runtime_heap_alloc_bytes') / 2 ** 20;
    for (const name of [
      'otelcol_processor_memory_limiter_refused_spans',
      'otelcol_processor_memory_limiter_refused_metric_points',
      'otelcol_processor_memory_limiter_refused_log_records',
    ]) {
      assert.equal(
        sampleSum(after, name) ?? 0,
        0,
        `${name} (heap ${heapMiB.toFixed(0)} MiB, soft limit ${memory.softMiB} MiB)`,
      );
    }
    const rssMiB = requireSample(after, 'otelcol_process_memory_rss') / 2 ** 20;
    assert.ok(rssMiB < memory.containerMiB, `RSS ${rssMiB} MiB reaches the container limit`);
    t.diagnostic(
      `full queue: heap ${heapMiB.toFixed(0)} MiB (soft limit ${memory.softMiB} MiB), RSS ` +
        `${rssMiB.toFixed(0)} MiB (container ${memory.containerMiB} MiB)`,
    );

    await endpoint.restart();
    await drained();
  });
  void it(
    'carries every metric the READMEs name, and answers every query deploy/README lists',
    { skip: withoutPrometheus },
    async () => {
      // A retried session for the validation and attempt series, then what no ordinary session
      // touches (lakehouse_langfuse_spans_dropped_total comes from the queue-full case above).
      await iterate('phantom-once');
      const rejected = await postJson(
        `${stack.gateway.url}/v1/iterate`,
        await fillRequest('clean', { max_iterations: 1 }),
        { 'x-lakehouse-trace-id': '0'.repeat(32) },
      );
      assert.equal(rejected.status, 200);
      // More model names than a series cap holds: chatd folds the rest into the overflow series.
      for (let i = 0; i <= 200; i++) {
        const chat = await postJson(`${stack.chatd.url}/v1/chat`, {
          provider: 'sim',
          model: `overflow-${i}`,
          messages: [{ role: 'user', content: 'Artifact kind: email' }],
        });
        assert.equal(chat.status, 200);
      }
      // Sockets until chatd closes one on arrival (compose leaves MAX_CONNECTIONS at its default).
      const sockets: net.Socket[] = [];
      let closedOnArrival = false;
      try {
        while (!closedOnArrival) {
          assert.ok(sockets.length <= 5000, 'chatd never closed a socket past its cap');
          const socket = net.connect(stack.chatd.port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.once('close', () => (closedOnArrival = true));
          sockets.push(socket);
          await new Promise<void>((resolve) => {
            socket.once('connect', () => resolve());
            socket.once('close', () => resolve());
          });
        }
        await eventually(
          async () => {
            const n = sampleSum(
              await text(`${stack.chatd.url}/metrics`).catch(() => ''),
              'lakehouse_http_connections_dropped_total',
            );
            return n !== undefined && n > 0 ? true : undefined;
          },
          30_000,
          'chatd to count the socket it closed',
        );
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      // The session log's file turns into a directory: the next row cannot be written.
      rmSync(stack.sessionLogPath, { force: true });
      mkdirSync(stack.sessionLogPath);
      await iterate('clean', 1);
      await eventually(
        async () =>
          (sampleSum(await gatewayMetrics(), 'lakehouse_session_log_write_failures_total') ?? 0) > 0
            ? true
            : undefined,
        30_000,
        'the gateway to count the row it could not write',
      );

      // Needs 10,000 rows waiting behind a stalled disk; the README says so. Its neighbours'
      // names show how it arrives.
      const notDriven = new Set(['lakehouse_session_log_dropped_total']);
      const names = readmeMetricSeries();
      assert.ok(names.length >= 12, names.join(' '));
      for (const name of names.filter((n) => !notDriven.has(n))) {
        await eventually(
          async () => ((await query(name)).length > 0 ? true : undefined),
          60_000,
          `${name} through the Collector in Prometheus`,
        );
      }
      const queries = deployReadmeQueries();
      assert.ok(queries.length >= 8, queries.join(' '));
      for (const expr of queries) {
        await eventually(
          async () => ((await query(expr)).length > 0 ? true : undefined),
          60_000,
          `deploy/README.md's query ${expr}`,
        );
      }
    },
  );
});
