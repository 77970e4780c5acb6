// Issue 12, invariant 6: clients do not steer our observability. Both real services, a local
// stand-in for Langfuse's OTLP endpoint, hostile trace headers — fixed regressions and generated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import { eventually, postJson, startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';
import { fillRequest, readJsonLines, sharedRoster, startStack } from './harness.js';
import type { Stack } from './harness.js';
import { startRecordedHops } from './chatd-stand-ins.js';
import type { RecordedHops } from './chatd-stand-ins.js';
import { joinedParentSpanId, LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import { buildTraces } from './langfuse-tree.js';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const FORGED_PARENT = '1234567890abcdef';
// 180 entries, ~8 KB: what issue 12 tried.
const HOSTILE_BAGGAGE = [
  'user.role=admin',
  `langfuse.observation.parent_id=${FORGED_PARENT}`,
  ...Array.from({ length: 178 }, (_, i) => `k${i}=${'v'.repeat(38)}`),
].join(',');

function langfuseEnv(receiver: OtlpReceiver): Record<string, string> {
  return {
    LANGFUSE_PUBLIC_KEY: 'pk-lf-e2e-public',
    LANGFUSE_SECRET_KEY: 'sk-lf-e2e-secret',
    LANGFUSE_BASE_URL: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
}

interface Row {
  session_id: string;
  attempts: Array<{ span_id?: string }>;
}

describe('untrusted trace headers at the gateway and chatd', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  const sent: Record<string, string> = {};
  let direct = '';
  let rows: Row[] = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({ env: langfuseEnv(receiver) });
    const post = async (name: string, headers: Record<string, string>, model = 'phantom-once') => {
      const res = await postJson(
        `${stack.gateway.url}/v1/iterate`,
        await fillRequest(model),
        headers,
      );
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.body)}`);
      sent[name] = String(res.body.trace_id);
    };
    await post('unsampled', { traceparent: `00-${'a1'.repeat(16)}-${CALLER_SPAN}-00` });
    await post('baggage', {
      traceparent: `00-${'b2'.repeat(16)}-${CALLER_SPAN}-01`,
      baggage: HOSTILE_BAGGAGE,
      tracestate: 'vendor=client-chosen',
    });
    await post('reused-1', { 'x-lakehouse-trace-id': 'c3'.repeat(16) }, 'clean');
    await post('reused-2', { 'x-lakehouse-trace-id': 'c3'.repeat(16) }, 'phantom-once');
    const res = await postJson(
      `${stack.chatd.url}/v1/chat`,
      { provider: 'sim', model: 'direct-forged', messages: [{ role: 'user', content: 'hello' }] },
      {
        traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
        baggage: `langfuse.observation.parent_id=${FORGED_PARENT}`,
        'x-lakehouse-hop': 'v1=AAAAAAAAAAAAAAAAAAAAAA',
      },
    );
    assert.equal(res.status, 200);
    direct = CALLER_TRACE;
    // SIGTERM flushes both processors: what has arrived now is what Langfuse would hold.
    const sessionLogPath = stack.sessionLogPath;
    await stack.gateway.stop();
    await stack.chatd.stop();
    rows = readJsonLines<Row>(sessionLogPath);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('a traceparent ending in -00 does not turn tracing off: the row names exported attempt spans', () => {
    const id = sent['unsampled']!;
    assert.equal(id, 'a1'.repeat(16), 'the caller still picks the trace id');
    const row = rows.find((r) => r.session_id === id);
    assert.ok(row, 'the row was written');
    const exported = new Set(receiver.spans.filter((s) => s.traceId === id).map((s) => s.spanId));
    assert.equal(row.attempts.length, 2);
    for (const attempt of row.attempts) {
      assert.match(attempt.span_id ?? '', /^[0-9a-f]{16}$/);
      assert.ok(exported.has(attempt.span_id!), `attempt span ${attempt.span_id} was exported`);
    }
    const tree = buildTraces(receiver.spans).get(id);
    assert.equal(tree?.roots.length, 1);
    assert.deepEqual(tree?.dangling, []);
  });

  it('client baggage and tracestate neither reach chatd nor place anything: one well-formed tree', () => {
    const id = sent['baggage']!;
    const tree = buildTraces(receiver.spans).get(id);
    assert.ok(tree);
    assert.deepEqual(
      tree.dangling.map((s) => s.name),
      [],
    );
    assert.equal(tree.roots.length, 1);
    const spans = receiver.spans.filter((s) => s.traceId === id);
    assert.ok(
      !spans.some((s) => s.parentSpanId === FORGED_PARENT),
      'the forged parent id is never used',
    );
    const body = receiver.requests.map((r) => r.body).join('\n');
    assert.ok(!body.includes('user.role'), 'no baggage entry is recorded anywhere');
    assert.ok(!body.includes('client-chosen'), 'no client tracestate is recorded anywhere');
    for (const generation of spans.filter((s) => s.name.startsWith('chat '))) {
      const parent = spans.find((s) => s.spanId === generation.parentSpanId);
      assert.match(parent?.name ?? '', /^attempt \d$/, 'the generation sits under its attempt');
    }
  });

  it("a direct chatd call with a forged parent, baggage and signature joins the caller's trace at its top, never under the named span", () => {
    const tree = buildTraces(receiver.spans).get(direct);
    assert.ok(tree, 'the generation arrived in the caller-chosen trace');
    assert.equal(tree.roots.length, 1);
    assert.deepEqual(tree.dangling, []);
    const top = tree.roots[0]!;
    assert.equal(top.type, 'generation');
    assert.equal(top.span.parentSpanId, joinedParentSpanId(CALLER_TRACE));
    assert.notEqual(top.span.parentSpanId, CALLER_SPAN);
    assert.notEqual(top.span.parentSpanId, FORGED_PARENT);
    assert.equal(
      top.span.attributes['langfuse.internal.as_root'],
      undefined,
      'not a Langfuse root',
    );
    assert.equal(top.span.attributes[LH.UPSTREAM_PARENT_SPAN_ID], CALLER_SPAN);
    assert.equal(
      top.span.attributes['langfuse.trace.name'],
      undefined,
      "the caller's trace keeps its own name",
    );
  });

  it('two sessions under one client-chosen trace id: two roots, neither overwrites trace-level fields; two rows', () => {
    const id = 'c3'.repeat(16);
    assert.equal(sent['reused-1'], id);
    assert.equal(sent['reused-2'], id);
    const tree = buildTraces(receiver.spans).get(id);
    assert.ok(tree);
    assert.deepEqual(tree.dangling, []);
    assert.deepEqual(
      tree.roots.map((r) => r.span.name),
      ['iterate fill', 'iterate fill'],
    );
    for (const root of tree.roots) {
      assert.equal(root.span.parentSpanId, joinedParentSpanId(id), 'both at the top, side by side');
      assert.equal(root.span.attributes['langfuse.internal.as_root'], undefined);
      assert.ok(
        !Object.keys(root.span.attributes).some((k) => k.startsWith('langfuse.trace.')),
        'no trace-level name/input/output from either session',
      );
      assert.ok(root.children.length >= 1, 'each session keeps its own attempts');
      assert.match(
        String(root.span.attributes['langfuse.observation.metadata']),
        /"final_verdict":"accepted"/,
      );
    }
    assert.deepEqual(
      tree.roots.map((r) => r.children.length).sort(),
      [1, 2],
      'clean took one attempt, phantom-once two',
    );
    assert.equal(
      rows.filter((r) => r.session_id === id).length,
      2,
      'one row per session, same session_id',
    );
  });
});

describe('hops: what a callee receives', () => {
  let recorder: RecordedHops | undefined;

  before(async () => {
    const roster = await WorkerLookup.load(await sharedRoster());
    const contract = sampleContract(roster, 5);
    const workers = roster.find({ ...contract, activeOnly: true }, 1);
    const content = JSON.stringify({
      fills: workers.map((w) => ({ candidate_id: w.candidateId, name: w.name })),
    });
    recorder = await startRecordedHops(await sharedRoster(), content);
  });
  after(async () => {
    await recorder?.close();
  });

  it('generated hostile trace headers: every hop carries our signed traceparent and nothing of the client', async () => {
    const contract = sampleContract(await WorkerLookup.load(await sharedRoster()), 5);
    const hex = (n: number) =>
      fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
    const headerText = fc.string({
      unit: fc.constantFrom('a', '=', ',', ';', '%', ' ', '0', 'é'),
      maxLength: 400,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            traceparent: fc.oneof(
              fc.tuple(hex(16), hex(8), hex(1)).map(([t, s, f]) => `00-${t}-${s}-${f}`),
              headerText,
            ),
            baggage: fc.oneof(headerText, fc.constant(HOSTILE_BAGGAGE)),
            tracestate: headerText,
          },
          { requiredKeys: [] },
        ),
        async (headers) => {
          const { traceId, hops } = await recorder!.iterateFill(contract, headers);
          for (const hop of hops) {
            assert.match(
              String(hop.headers.traceparent),
              new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
              'sampled, our span',
            );
            assert.match(
              String(hop.headers['x-lakehouse-hop']),
              /^v1=[A-Za-z0-9_-]{22}$/,
              'signed',
            );
            assert.equal(hop.headers.baggage, undefined, 'no baggage forwarded');
            assert.equal(hop.headers.tracestate, undefined, 'no tracestate forwarded');
          }
          // Both hops name the same attempt span as parent.
          assert.equal(hops[0]?.headers.traceparent, hops[1]?.headers.traceparent);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('without a shared LAKEHOUSE_HOP_KEY (documented behaviour)', () => {
  it("chatd trusts no parent: the gateway's session stays one tree, the generation shows as its own root", async () => {
    const receiver = await startOtlpReceiver();
    const stack = await startStack({
      env: langfuseEnv(receiver),
      chatdEnv: { LAKEHOUSE_HOP_KEY: '' },
    });
    try {
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, await fillRequest('clean'));
      assert.equal(res.status, 200);
      const id = String(res.body.trace_id);
      await stack.gateway.stop();
      await stack.chatd.stop();
      const tree = await eventually(() => buildTraces(receiver.spans).get(id), 10_000, 'the trace');
      assert.deepEqual(tree.dangling, []);
      assert.deepEqual(tree.roots.map((r) => r.type).sort(), ['generation', 'span']);
      const session = tree.roots.find((r) => r.span.name === 'iterate fill')!;
      assert.deepEqual(
        session.children[0]?.children.map((c) => c.span.name),
        ['validate fill'],
        'the validate hop still nests (same process)',
      );
      assert.ok(
        stack.chatd.lines.some((l) => l.includes('LAKEHOUSE_HOP_KEY is not set')),
        'chatd warned at start-up',
      );
    } finally {
      await stack.stop();
      await receiver.close();
    }
  });
});
