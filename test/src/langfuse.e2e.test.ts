import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  eventually,
  postJson,
  langfuseIngestionCheck,
  startOtlpReceiver,
  type OtlpReceiver,
} from '@lakehouse/test-support';
import { fillRequest, readJsonLines, sharedRoster, startService, startStack } from './harness.js';
import type { Stack } from './harness.js';
import { buildTraces } from './langfuse-tree.js';

const PUBLIC_KEY = 'pk-lf-e2e-public';
const SECRET_KEY = 'sk-lf-e2e-secret';

const checkLangfuseRequest = langfuseIngestionCheck(PUBLIC_KEY, SECRET_KEY);

function langfuseEnv(
  receiver: OtlpReceiver,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
    LANGFUSE_SECRET_KEY: SECRET_KEY,
    LANGFUSE_BASE_URL: receiver.url,
    ...extra,
  };
}

describe('Langfuse: one tree per iterate session (local stand-in for the OTLP endpoint)', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  const traceIds: Record<string, string> = {};
  let rows: Array<Record<string, unknown>> = [];
  const chatOnlyModel = 'direct-call-model';

  before(async () => {
    receiver = await startOtlpReceiver({ check: checkLangfuseRequest });
    stack = await startStack({ env: langfuseEnv(receiver) });
    for (const model of ['phantom-once', 'phantom-always']) {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest(model));
      traceIds[model] = String(res.body.trace_id);
    }
    const direct = await postJson(`${stack.chatd.url}/v1/chat`, {
      provider: 'sim',
      model: chatOnlyModel,
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(direct.status, 200);
    // SIGTERM flushes both processors: what arrives now is what Langfuse would hold.
    const sessionLogPath = stack.sessionLogPath;
    await stack.gateway.stop();
    await stack.chatd.stop();
    rows = readJsonLines(sessionLogPath);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('sends OTLP to /api/public/otel/v1/traces with Basic auth and the ingestion-version header', () => {
    assert.ok(receiver.requests.length > 0);
    for (const request of receiver.requests) assert.equal(checkLangfuseRequest(request), undefined);
    assert.deepEqual(receiver.rejections, []);
  });

  it('shows a retried session as ONE tree: attempt 0 WARNING, attempt 1 DEFAULT, each with a generation and a guardrail', () => {
    const trace = buildTraces(receiver.spans).get(traceIds['phantom-once']!);
    assert.ok(trace, 'the session trace arrived');
    assert.deepEqual(
      trace.dangling.map((s) => s.name),
      [],
      'no dangling parent ids',
    );
    assert.equal(trace.roots.length, 1, 'exactly one root');
    const root = trace.roots[0]!;
    assert.equal(root.span.name, 'iterate fill');
    assert.equal(root.span.attributes['langfuse.trace.name'], 'iterate:fill');
    // Langfuse takes a root's observation input/output for its trace (sent once).
    assert.match(String(root.span.attributes['langfuse.observation.input']), /Staff the shift/);
    assert.match(String(root.span.attributes['langfuse.observation.output']), /accepted/);
    assert.equal(root.span.attributes['langfuse.trace.input'], undefined);
    const attempts = root.children.filter((c) => c.span.name.startsWith('attempt '));
    assert.deepEqual(
      attempts.map((a) => [a.span.name, a.level]),
      [
        ['attempt 0', 'WARNING'],
        ['attempt 1', 'DEFAULT'],
      ],
    );
    for (const attempt of attempts) {
      const types = attempt.children.map((c) => `${c.type}:${c.span.name}`).sort();
      assert.deepEqual(types, ['generation:chat phantom-once', 'guardrail:validate fill']);
      const generation = attempt.children.find((c) => c.type === 'generation')!;
      assert.equal(generation.span.attributes['langfuse.observation.model.name'], 'phantom-once');
      const usage = JSON.parse(
        String(generation.span.attributes['langfuse.observation.usage_details']),
      ) as Record<string, number>;
      assert.ok(usage.input! > 0 && usage.output! > 0, JSON.stringify(usage));
      assert.match(
        String(generation.span.attributes['langfuse.observation.input']),
        /Staff the shift/,
      );
      assert.match(String(generation.span.attributes['langfuse.observation.output']), /fills/);
      for (const child of attempt.children) {
        assert.equal(
          child.span.attributes['langfuse.trace.name'],
          undefined,
          'hops never set trace-level attributes',
        );
      }
    }
    const guardrail0 = attempts[0]!.children.find((c) => c.type === 'guardrail')!;
    assert.equal(guardrail0.level, 'WARNING');
    assert.match(
      String(guardrail0.span.attributes['langfuse.observation.output']),
      /not in roster/,
    );
  });

  it('has N+1 hops per session no matter how many retries: max_iter_exhausted with 3 attempts', () => {
    const trace = buildTraces(receiver.spans).get(traceIds['phantom-always']!);
    assert.ok(trace);
    assert.equal(trace.roots.length, 1);
    assert.deepEqual(trace.dangling, []);
    const attempts = trace.roots[0]!.children;
    assert.deepEqual(
      attempts.map((a) => a.level),
      ['WARNING', 'WARNING', 'WARNING'],
    );
    assert.equal(attempts.flatMap((a) => a.children).length, 6);
  });

  it('stamps the attempt span ids on the session row', () => {
    for (const model of ['phantom-once', 'phantom-always']) {
      const trace = buildTraces(receiver.spans).get(traceIds[model]!)!;
      const attemptIds = trace.roots[0]!.children.map((a) => a.span.spanId);
      const row = rows.find((r) => r.session_id === traceIds[model]);
      assert.ok(row, `row for ${model}`);
      assert.deepEqual(
        (row.attempts as Array<{ span_id: string }>).map((a) => a.span_id),
        attemptIds,
      );
    }
  });

  it('makes a direct chatd call its own trace with one generation', () => {
    const traces = [...buildTraces(receiver.spans).values()].filter((t) =>
      t.all.some((n) => n.span.attributes['langfuse.observation.model.name'] === chatOnlyModel),
    );
    assert.equal(traces.length, 1);
    const trace = traces[0]!;
    assert.equal(trace.roots.length, 1);
    assert.equal(trace.all.length, 1);
    assert.equal(trace.roots[0]!.type, 'generation');
    assert.equal(trace.roots[0]!.span.attributes['langfuse.trace.name'], `chat:${chatOnlyModel}`);
  });
});

describe('Langfuse: masking and content capture', () => {
  it('never exports a secret found in a prompt (Langfuse and raw OTLP), and no prompt text with capture off', async () => {
    const secret = 'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const marker = 'UNIQUE-PROMPT-MARKER-7731';
    for (const capture of ['true', 'false']) {
      const receiver = await startOtlpReceiver({ check: checkLangfuseRequest });
      const rawOtlp = await startOtlpReceiver();
      const stack = await startStack({
        env: langfuseEnv(receiver, {
          CONTENT_CAPTURE: capture,
          OTEL_EXPORTER_OTLP_ENDPOINT: rawOtlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        }),
      });
      try {
        const res = await postJson(
          `${stack.gateway.url}/v1/iterate`,
          await fillRequest('clean', { prompt: `${marker} use key ${secret} please` }),
        );
        assert.equal(res.status, 200);
        await stack.gateway.stop();
        await stack.chatd.stop();
        for (const [name, sink] of [
          ['Langfuse', receiver],
          ['raw OTLP', rawOtlp],
        ] as const) {
          const everything = sink.requests.map((r) => r.body).join('\n');
          assert.ok(sink.spans.length > 0, `${name}: spans were exported`);
          assert.ok(
            !everything.includes(secret),
            `${name}, capture=${capture}: the secret never leaves the process`,
          );
          if (capture === 'true')
            assert.ok(
              everything.includes(marker),
              `${name}: prompt text is exported with capture on`,
            );
          else assert.ok(!everything.includes(marker), `${name}: no prompt text with capture off`);
        }
      } finally {
        await stack.stop();
        await receiver.close();
        await rawOtlp.close();
      }
    }
  });

  it('refuses to start with half-configured Langfuse keys, naming the missing variable', async () => {
    await assert.rejects(
      startService('gateway', {
        ROSTER_PATH: await sharedRoster(),
        LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
      }),
      /exited with code 2[\s\S]*LANGFUSE_SECRET_KEY/,
    );
  });
});

describe('Langfuse endpoint failures never hurt requests', () => {
  for (const mode of [500, 429, 'hang'] as const) {
    it(`endpoint answering ${mode}: answers stay correct, drops are counted, shutdown is bounded`, async () => {
      const receiver = await startOtlpReceiver();
      receiver.respondWith(mode);
      const stack = await startStack({ env: langfuseEnv(receiver) });
      try {
        // With the endpoint hanging too, every session answers: export never sits in a request.
        for (let i = 0; i < 5; i++) {
          const res = await postJson(
            `${stack.gateway.url}/v1/iterate`,
            await fillRequest('phantom-once'),
          );
          assert.equal(res.status, 200);
        }
        const dropped = await eventually(
          async () => {
            const text = await (await fetch(`${stack.gateway.url}/metrics`)).text();
            const line = text
              .split('\n')
              .find((l) => /^lakehouse_langfuse_spans_dropped\w*\{/.test(l) && !l.endsWith(' 0'));
            return line;
          },
          15_000,
          'a non-zero lakehouse_langfuse_spans_dropped counter',
        );
        assert.ok(dropped);
        // stop() SIGKILLs past its 10 s deadline; only a bounded shutdown exits 0.
        assert.equal(await stack.gateway.stop(), 0);
        assert.equal(await stack.chatd.stop(), 0);
      } finally {
        await stack.stop();
        await receiver.close();
      }
    });
  }

  it('endpoint down: answers stay correct', async () => {
    const receiver = await startOtlpReceiver();
    const url = receiver.url;
    await receiver.close();
    const stack = await startStack({
      env: {
        LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
        LANGFUSE_SECRET_KEY: SECRET_KEY,
        LANGFUSE_BASE_URL: url,
      },
    });
    try {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 200);
      assert.equal(await stack.gateway.stop(), 0, 'a bounded shutdown exits 0');
    } finally {
      await stack.stop();
    }
  });
});
