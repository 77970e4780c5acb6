import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import {
  buildLangfuseTrees,
  LAKEHOUSE_ATTRIBUTES as LH,
  LangfuseTranslatingSpanProcessor,
  SPANS_DROPPED_METRIC,
} from '../src/index.js';
import type { LangfuseProcessorOptions, LangfuseTraceTree, TreeObservation } from '../src/index.js';
import { eventually, langfuseIngestionCheck, startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';
import { chatdHandle, isTrustedTestParent, runSession, Service } from './harness.js';

const PK = 'pk-lf-1234567890abcdef';
const SK = 'sk-lf-abcdef1234567890';
// The stand-in applies Langfuse's ingestion checks (path, Basic auth, ingestion version).
const checkIngestion = langfuseIngestionCheck(PK, SK);

/** The bodies the stand-in accepted, as Langfuse would hold them: raw text and parsed JSON. */
function accepted(receiver: OtlpReceiver): { raw: string[]; json: unknown[] } {
  const ok = receiver.requests.filter((r) => checkIngestion(r) === undefined);
  return { raw: ok.map((r) => r.body), json: ok.map((r) => r.json) };
}

function fakeMeter(): {
  meter: Meter;
  adds: Array<{ name: string; value: number; reason: unknown }>;
} {
  const adds: Array<{ name: string; value: number; reason: unknown }> = [];
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, attrs?: Record<string, unknown>) =>
        adds.push({ name, value, reason: attrs?.['reason'] }),
    }),
  } as unknown as Meter;
  return { meter, adds };
}

interface World {
  gateway: Service;
  chatd: Service;
  gwProcessor: LangfuseTranslatingSpanProcessor;
  chatdProcessor: LangfuseTranslatingSpanProcessor;
  shutdown(): Promise<void>;
}

function world(baseUrl: string, extra: LangfuseProcessorOptions = {}): World {
  const opts: LangfuseProcessorOptions = {
    publicKey: PK,
    secretKey: SK,
    baseUrl,
    env: {},
    scheduledDelayMillis: 20,
    exportTimeoutMillis: 1000,
    isTrustedRemoteParent: isTrustedTestParent,
    ...extra,
  };
  const gwProcessor = new LangfuseTranslatingSpanProcessor(opts);
  const chatdProcessor = new LangfuseTranslatingSpanProcessor(opts);
  const gateway = new Service('gateway', gwProcessor);
  const chatd = new Service('chatd', chatdProcessor);
  return {
    gateway,
    chatd,
    gwProcessor,
    chatdProcessor,
    shutdown: async () => {
      await Promise.all([gateway.provider.shutdown(), chatd.provider.shutdown()]);
    },
  };
}

function treeFor(receiver: OtlpReceiver, traceId: string): LangfuseTraceTree {
  const tree = buildLangfuseTrees(accepted(receiver).json).find((t) => t.traceId === traceId);
  assert.ok(tree, `trace ${traceId} reached the receiver`);
  return tree;
}

function only<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `exactly one ${what}`);
  return items[0] as T;
}

void describe('LangfuseTranslatingSpanProcessor against a local OTLP receiver', () => {
  let receiver: OtlpReceiver;
  let baseUrl = '';
  before(async () => {
    receiver = await startOtlpReceiver({ check: checkIngestion });
    baseUrl = receiver.url;
  });
  after(async () => {
    await receiver.close();
  });

  void it('builds ONE trace per session: N retries give N+1 attempts and hops, no dangling parent', async () => {
    const w = world(baseUrl);
    // The gateway's own caller sent a traceparent: the root keeps that remote parent, marked as_root.
    const callerTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traceId = runSession(w.gateway, w.chatd, {
      inbound: { traceparent: callerTraceparent },
      attempts: [{ verdict: 'validation_failed' }, { verdict: 'no_json' }, { verdict: 'accepted' }],
    });
    await w.shutdown();
    assert.deepEqual(receiver.rejections, []);
    assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    const tree = treeFor(receiver, traceId);

    const root = only(tree.roots, 'root');
    assert.equal(root.name, 'iterate fill');
    assert.equal(root.parentId, undefined, 'the root is exported parentless (langfuse#15927)');
    assert.equal(
      root.attributes[LH.UPSTREAM_PARENT_SPAN_ID],
      '00f067aa0ba902b7',
      'the upstream parent id is kept as an attribute',
    );
    assert.equal(root.attributes['langfuse.internal.as_root'], true);
    assert.deepEqual(tree.dangling, []);
    assert.equal(tree.name, 'iterate:fill');
    assert.deepEqual(tree.tags, ['fill', 'sim', 'phantom-once', 'accepted']);
    assert.deepEqual(tree.metadata, {
      final_verdict: 'accepted',
      iterations: 3,
      max_iterations: 3,
      grounded_in_roster: true,
    });
    assert.deepEqual((tree.output as { final_verdict: string }).final_verdict, 'accepted');
    assert.equal((tree.input as { kind: string }).kind, 'fill');

    // No HTTP/Express noise, and only the root carries trace-level attributes.
    for (const o of tree.observations) {
      assert.ok(
        !o.scopeName?.startsWith('@opentelemetry/instrumentation-'),
        `noise exported: ${o.name}`,
      );
      if (o !== root) {
        assert.ok(
          !Object.keys(o.attributes).some((k) => k.startsWith('langfuse.trace.')),
          `${o.name} has trace attributes`,
        );
        assert.equal(o.attributes['langfuse.internal.as_root'], undefined);
      }
    }
    assert.equal(
      tree.observations.length,
      1 + 3 + 3 + 2,
      'root + 3 attempts + 3 chats + 2 validates',
    );

    const attempts = root.children;
    assert.deepEqual(
      attempts.map((a) => a.name),
      ['attempt 0', 'attempt 1', 'attempt 2'],
    );
    assert.deepEqual(
      attempts.map((a) => a.type),
      ['span', 'span', 'span'],
    );
    assert.deepEqual(
      attempts.map((a) => a.level),
      ['WARNING', 'WARNING', 'DEFAULT'],
    );
    assert.equal(attempts[0]?.statusMessage, 'candidate_id W-999 not in roster');
    assert.deepEqual((attempts[2]?.input as { iteration: number; model: string }).iteration, 2);
    assert.equal((attempts[2]?.output as { verdict: string }).verdict, 'accepted');

    // N+1 hops to chatd, each a generation nested under its attempt.
    const chats = tree.observations.filter((o) => o.type === 'generation');
    assert.equal(chats.length, 3);
    for (const [i, a] of attempts.entries()) {
      const chat = a.children.find((c) => c.type === 'generation') as TreeObservation;
      assert.ok(chat, `attempt ${i} has a generation`);
      assert.equal(chat.serviceName, 'chatd');
      assert.equal(chat.name, 'chat phantom-once');
      assert.equal(chat.model, 'phantom-once');
      assert.deepEqual(chat.usage, { input: 120, output: 45, total: 165 });
      assert.deepEqual(
        JSON.parse(String(chat.attributes['langfuse.observation.model.parameters'])),
        { temperature: 0.2, max_tokens: 4096 },
      );
      assert.equal((chat.input as Array<{ role: string }>)[0]?.role, 'user');
      assert.deepEqual(chat.output, { fills: [{ candidate_id: 'W-1', name: 'Ada' }] });
      assert.ok(typeof chat.attributes['langfuse.observation.completion_start_time'] === 'string');
    }
    const validates = tree.observations.filter((o) => o.name === 'validate fill');
    assert.deepEqual(
      validates.map((v) => v.type),
      ['guardrail', 'guardrail'],
    );
    assert.deepEqual(
      validates.map((v) => v.level),
      ['WARNING', 'DEFAULT'],
    );
    assert.equal(validates[0]?.parentId, attempts[0]?.id);
    assert.equal((validates[0]?.output as { ok: boolean }).ok, false);
    assert.equal(attempts[1]?.children.length, 1, 'no_json attempt: chat only');
  });

  void it('marks infra failures ERROR on the attempt, the generation and the session', async () => {
    const w = world(baseUrl);
    const traceId = runSession(w.gateway, w.chatd, { attempts: [{ verdict: 'infra_error' }] });
    await w.shutdown();
    const tree = treeFor(receiver, traceId);
    const root = only(tree.roots, 'root');
    assert.equal(root.parentId, undefined, 'a locally started session root is parentless');
    assert.equal(root.level, 'ERROR');
    const attempt = only(root.children, 'attempt');
    assert.equal(attempt.level, 'ERROR');
    assert.equal(attempt.statusMessage, 'chat hop failed: provider timed out');
    const chat = only(attempt.children, 'chat');
    assert.equal(chat.type, 'generation');
    assert.equal(chat.level, 'ERROR');
    assert.deepEqual(tree.dangling, []);
  });

  void it('turns a chatd call with no parent into its own trace named chat:{model}', async () => {
    const w = world(baseUrl);
    chatdHandle(w.chatd, {}, 'clean', 'hello');
    await w.shutdown();
    const trees = buildLangfuseTrees(accepted(receiver).json).filter(
      (t) => t.name === 'chat:clean',
    );
    const tree = only(trees, 'chat trace');
    const root = only(tree.roots, 'root');
    assert.equal(tree.observations.length, 1);
    assert.equal(root.type, 'generation');
    assert.equal(root.parentId, undefined);
    assert.equal(root.attributes['langfuse.internal.as_root'], true);
  });

  void it('masks secrets in every exported string attribute before they leave the process', async () => {
    const secret = 'sk-proj-AAAAbbbbCCCCdddd1234567890';
    const w = world(baseUrl);
    const before = accepted(receiver).raw.length;
    const traceId = runSession(w.gateway, w.chatd, {
      prompt: `use key ${secret} and Authorization: Bearer abcdefghijklmnop1234 and ${SK}`,
      attempts: [{ verdict: 'accepted' }],
    });
    // A span from another library (not ours) carrying a secret is masked too.
    const other = w.gateway.provider.getTracer('some-lib').startSpan('db query', {
      attributes: { 'db.statement': `select * where api_key='${secret}'` },
    });
    other.addEvent('log', { message: `token ${secret}` });
    other.end();
    await w.shutdown();
    const bodies = accepted(receiver).raw.slice(before).join('\n');
    assert.ok(bodies.length > 0);
    assert.ok(!bodies.includes(secret), 'OpenAI-style key never reaches Langfuse');
    assert.ok(!bodies.includes('abcdefghijklmnop1234'), 'bearer token never reaches Langfuse');
    assert.ok(!bodies.includes(SK), 'Langfuse secret key never reaches Langfuse');
    assert.ok(bodies.includes('[REDACTED]'));
    const tree = treeFor(receiver, traceId);
    assert.match(JSON.stringify(tree.roots[0]?.children[0]?.input), /use key \[REDACTED\]/);
  });

  void it('applies a custom mask instead of the default one', async () => {
    const w = world(baseUrl, { mask: (v) => v.replaceAll('Reno', '<city>') });
    const before = accepted(receiver).raw.length;
    runSession(w.gateway, w.chatd, { attempts: [{ verdict: 'accepted' }] });
    await w.shutdown();
    const bodies = accepted(receiver).raw.slice(before).join('\n');
    assert.ok(!bodies.includes('Reno'));
    assert.ok(bodies.includes('<city>'));
  });

  void it('exports no prompt or response text with content capture off, but keeps ids, usage, model and levels', async () => {
    const w = world(baseUrl, { contentCapture: false });
    const before = accepted(receiver).raw.length;
    const traceId = runSession(w.gateway, w.chatd, {
      prompt: 'PROMPT-TEXT-MARKER forklift',
      attempts: [{ verdict: 'validation_failed' }, { verdict: 'accepted' }],
    });
    await w.shutdown();
    const bodies = accepted(receiver).raw.slice(before).join('\n');
    assert.ok(!bodies.includes('PROMPT-TEXT-MARKER'), 'no prompt text');
    assert.ok(!bodies.includes('candidate_id\\\\\\":\\\\\\"W-1'), 'no raw model output');
    assert.ok(!bodies.includes('"Ada'), 'no artifact or response text');
    const tree = treeFor(receiver, traceId);
    const root = only(tree.roots, 'root');
    assert.deepEqual(
      root.children.map((a) => a.level),
      ['WARNING', 'DEFAULT'],
    );
    assert.deepEqual(root.children[0]?.input, {
      iteration: 0,
      model: 'phantom-once',
      provider: 'sim',
    });
    assert.equal((root.children[1]?.output as { verdict: string }).verdict, 'accepted');
    const chat = root.children[0]?.children.find((c) => c.type === 'generation');
    assert.equal(chat?.model, 'phantom-once');
    assert.deepEqual(chat?.usage, { input: 120, output: 45, total: 165 });
    assert.equal(chat?.input, undefined);
    assert.equal(chat?.output, undefined);
    assert.deepEqual(tree.output, { final_verdict: 'accepted' });
  });
});

void describe('export never blocks or fails a request', () => {
  const modes = ['down', '500', '429', 'hang'] as const;
  for (const mode of modes) {
    void it(`endpoint ${mode}: onEnd never waits for it, drops are counted and logged once, shutdown returns`, async () => {
      const receiver = await startOtlpReceiver({ check: checkIngestion });
      const baseUrl = receiver.url;
      if (mode === 'down')
        await receiver.close(); // nothing listens on that port any more
      else if (mode === '429') receiver.respondWith(429, { 'retry-after': '60' });
      else receiver.respondWith(mode === 'hang' ? 'hang' : 500);
      const { meter, adds } = fakeMeter();
      const warnings: string[] = [];
      const processor = new LangfuseTranslatingSpanProcessor({
        publicKey: PK,
        secretKey: SK,
        baseUrl,
        env: {},
        meter,
        logger: { warn: (m) => warnings.push(m) },
        maxQueueSize: 50,
        maxExportBatchSize: 20,
        scheduledDelayMillis: 5,
        exportTimeoutMillis: 400,
      });
      const service = new Service('gateway', processor);
      const tracer = service.provider.getTracer('lakehouse-gateway');
      const burst = (from: number): void => {
        for (let i = from; i < from + 100; i++) {
          tracer.startSpan(`work ${i}`, { attributes: { [LH.PROMPT]: 'x'.repeat(200) } }).end();
        }
      };
      burst(0);
      // Wait for the event, not a delay: an export to the failing endpoint is under way (or, with
      // nothing listening, has already failed). The later bursts then end spans while it is.
      await eventually(
        () =>
          (
            mode === 'down'
              ? processor.droppedSpans.export_failed > 0
              : receiver.requests.length > 0
          )
            ? true
            : undefined,
        10_000,
        'an export attempt',
      );
      for (const from of [100, 200, 300]) burst(from);

      // Bounded by the export timeout, so it returns although the endpoint never answers.
      await service.provider.shutdown();
      await processor.shutdown(); // idempotent

      const dropped = processor.droppedSpans;
      assert.equal(
        dropped.queue_full + dropped.export_failed,
        400,
        `all 400 spans counted as dropped: ${JSON.stringify(dropped)}`,
      );
      assert.ok(dropped.queue_full > 0, 'the bounded queue overflowed');
      const metricTotal = adds
        .filter((a) => a.name === SPANS_DROPPED_METRIC)
        .reduce((n, a) => n + a.value, 0);
      assert.equal(metricTotal, 400);
      assert.ok(adds.every((a) => a.reason === 'queue_full' || a.reason === 'export_failed'));
      assert.equal(warnings.length, 2, `one warning per reason: ${warnings.join(' | ')}`);
      if (mode !== 'down') await receiver.close();
    });
  }
});
