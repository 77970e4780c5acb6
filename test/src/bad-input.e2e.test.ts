// Bad input at the gateway's front door: malformed and huge JSON, wrong types, unknown fields,
// prototype keys, deep nesting, invalid UTF-8, hostile trace headers and prompts. Each case gets a
// clear 4xx or is handled safely; nothing hostile is echoed; the gateway never crashes; where a
// session began, its row (one valid JSON line) and its trace tree are recorded.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, startStack, fillRequest } from './harness.js';
import type { Stack } from './harness.js';
import { readSessionFile, reportEvidence } from './faults-helpers.js';
import { buildTraces } from './langfuse-tree.js';
import { startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';

const MARKER = 'EVIL-7f3a';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Sends raw bytes as one HTTP/1.1 request on a fresh connection and reads the whole answer. */
function rawRequest(port: number, head: string, body: Buffer | string = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The HTTP parser answers some requests (431) and resets while the body is still coming.
    socket.on('error', (err) => (chunks.length > 0 ? socket.destroy() : reject(err)));
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const split = all.indexOf('\r\n\r\n');
      const headLines = (split >= 0 ? all.slice(0, split) : all).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headLines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of headLines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, text: all });
    });
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    socket.write(
      `${head}\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${payload.length}\r\n\r\n`,
    );
    // No half-close: Node's HTTP server treats a client FIN as the client going away.
    socket.write(payload);
  });
}

function post(
  port: number,
  body: Buffer | string,
  headers: string[] = [],
  path = '/v1/iterate',
  contentType = 'application/json',
): Promise<RawResponse> {
  return rawRequest(
    port,
    [`POST ${path} HTTP/1.1`, `content-type: ${contentType}`, ...headers].join('\r\n'),
    body,
  );
}

/** Nests `depth` levels of `{"a": …}` around `inner` without recursion. */
function nested(depth: number, inner = '1'): string {
  return '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

interface Case {
  name: string;
  send: (port: number) => Promise<RawResponse>;
  /** Acceptable statuses. */
  status: number[];
  /** True when a session must have begun (row + trace expected). */
  session: boolean;
  /** Text that must not come back (default MARKER). */
  notEchoed?: string;
  /** Extra checks on the answer and, for sessions, the row. */
  check?: (res: RawResponse, row: Record<string, unknown> | undefined) => void;
}

describe('bad input: the gateway answers clearly, echoes nothing, never crashes', () => {
  let stack: Stack;
  let receiver: OtlpReceiver;
  let valid: Record<string, unknown>;
  const began: Array<{ name: string; traceId: string }> = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({
      env: {
        LANGFUSE_PUBLIC_KEY: 'pk-lf-bad',
        LANGFUSE_SECRET_KEY: 'sk-lf-bad',
        LANGFUSE_BASE_URL: receiver.url,
      },
    });
    valid = await fillRequest('clean');
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const json = (patch: Record<string, unknown>, drop: string[] = []) => {
    const body: Record<string, unknown> = { ...valid, ...patch };
    for (const key of drop) delete body[key];
    return JSON.stringify(body);
  };
  const validText = () => JSON.stringify(valid);
  // Splices raw JSON text in place of a field's value: lets a case send what JSON.stringify cannot.
  const withRaw = (field: string, rawValue: string) =>
    validText().replace(/\}$/, `,"${field}":${rawValue}}`);

  const cases: Case[] = [
    // Malformed and huge bodies: 400/413 before any session.
    { name: 'empty body', send: (p) => post(p, ''), status: [400], session: false },
    {
      name: 'truncated JSON',
      send: (p) => post(p, `{"kind":"fill","prompt":"${MARKER}`),
      status: [400],
      session: false,
    },
    { name: 'JSON null', send: (p) => post(p, 'null'), status: [400], session: false },
    { name: 'JSON array', send: (p) => post(p, `["${MARKER}"]`), status: [400], session: false },
    { name: 'JSON string', send: (p) => post(p, `"${MARKER}"`), status: [400], session: false },
    {
      name: 'trailing garbage after the object',
      send: (p) => post(p, `${validText()} ${MARKER}`),
      status: [400],
      session: false,
    },
    {
      name: '2 MiB body (over BODY_LIMIT_BYTES)',
      send: (p) => post(p, json({ prompt: MARKER + 'x'.repeat(2 * 1024 * 1024) })),
      status: [413],
      session: false,
    },
    {
      name: 'body declared as latin-1 (unsupported charset)',
      send: (p) => post(p, validText(), [], '/v1/iterate', 'application/json; charset=latin1'),
      status: [415],
      session: false,
    },
    {
      name: 'gzip content-encoding with a non-gzip body',
      send: (p) => post(p, validText(), ['content-encoding: gzip']),
      status: [400, 415],
      session: false,
    },
    // Wrong types and values: 400 naming the field.
    {
      name: 'unknown kind',
      send: (p) => post(p, json({ kind: `${MARKER}<script>` })),
      status: [400],
      session: false,
      check: fieldIs('kind'),
    },
    {
      name: 'kind as a number',
      send: (p) => post(p, json({ kind: 7 })),
      status: [400],
      session: false,
      check: fieldIs('kind'),
    },
    {
      name: 'prompt missing',
      send: (p) => post(p, json({}, ['prompt'])),
      status: [400],
      session: false,
      check: fieldIs('prompt'),
    },
    {
      name: 'prompt as an object',
      send: (p) => post(p, json({ prompt: { text: MARKER } })),
      status: [400],
      session: false,
      check: fieldIs('prompt'),
    },
    {
      name: 'provider empty',
      send: (p) => post(p, json({ provider: '' })),
      status: [400],
      session: false,
      check: fieldIs('provider'),
    },
    {
      name: 'model as an array',
      send: (p) => post(p, json({ model: [MARKER] })),
      status: [400],
      session: false,
      check: fieldIs('model'),
    },
    {
      name: 'max_iterations 0',
      send: (p) => post(p, json({ max_iterations: 0 })),
      status: [400],
      session: false,
      check: fieldIs('max_iterations'),
    },
    {
      name: 'max_iterations as a string',
      send: (p) => post(p, json({ max_iterations: `3${MARKER}` })),
      status: [400],
      session: false,
      check: fieldIs('max_iterations'),
    },
    {
      name: 'max_iterations 2.5',
      send: (p) => post(p, json({ max_iterations: 2.5 })),
      status: [400],
      session: false,
      check: fieldIs('max_iterations'),
    },
    {
      name: 'temperature 1e999 (Infinity)',
      send: (p) => post(p, withRaw('temperature', '1e999')),
      status: [400],
      session: false,
      check: fieldIs('temperature'),
    },
    {
      name: 'max_tokens 1e300',
      send: (p) => post(p, json({ max_tokens: 1e300 })),
      status: [400],
      session: false,
      check: fieldIs('max_tokens'),
    },
    {
      name: 'system as a number',
      send: (p) => post(p, json({ system: 42 })),
      status: [400],
      session: false,
      check: fieldIs('system'),
    },
    {
      name: 'context as an array',
      send: (p) => post(p, json({ context: [MARKER] })),
      status: [400],
      session: false,
      check: fieldIs('context'),
    },
    {
      name: 'context.target_count as a string',
      send: (p) =>
        post(p, json({ context: { ...(valid.context as object), target_count: MARKER } })),
      status: [400],
      session: false,
    },
    // Unknown fields and prototype keys: ignored, the session runs normally.
    {
      name: 'unknown top-level fields',
      send: (p) => post(p, json({ [`x_${MARKER}`]: MARKER, debug: true })),
      status: [200],
      session: true,
    },
    {
      name: '__proto__ key carrying fields',
      send: (p) => post(p, withRaw('__proto__', '{"max_iterations":99,"polluted":true}')),
      status: [200],
      session: true,
      check: (res) => assert.equal(JSON.parse(body(res)).iterations, 1),
    },
    {
      name: 'constructor.prototype key',
      send: (p) => post(p, withRaw('constructor', '{"prototype":{"polluted":true}}')),
      status: [200],
      session: true,
    },
    {
      name: '__proto__ inside context',
      send: (p) =>
        post(
          p,
          json({
            context: JSON.parse(
              `{"__proto__":{"target_count":50},${JSON.stringify(valid.context).slice(1)}`,
            ) as unknown,
          }),
        ),
      status: [200],
      session: true,
    },
    // Deep nesting.
    {
      name: 'deeply nested unknown field (10,000 levels)',
      send: (p) => post(p, withRaw('extra', nested(10_000))),
      status: [200],
      session: true,
    },
    {
      name: 'deeply nested context value (10,000 levels)',
      send: (p) =>
        post(p, validText().replace('"context":{', `"context":{"deep":${nested(10_000)},`)),
      status: [400],
      session: false,
      check: fieldIs('context'),
    },
    {
      name: 'deeply nested artifact at /v1/validate (10,000 levels)',
      send: (p) => post(p, `{"kind":"email","artifact":${nested(10_000)}}`, [], '/v1/validate'),
      status: [400, 422],
      session: false,
    },
    {
      name: '__proto__ artifact at /v1/validate',
      send: (p) =>
        post(
          p,
          '{"kind":"email","artifact":{"__proto__":{"to":"a@b"},"subject":"s","body":"b"}}',
          [],
          '/v1/validate',
        ),
      status: [422],
      session: false,
    },
    // Invalid UTF-8 and hostile prompts: the session runs, the row stays one valid line.
    {
      name: 'invalid UTF-8 bytes inside the prompt',
      send: (p) =>
        post(
          p,
          Buffer.concat([
            Buffer.from('{"prompt":"bad '),
            Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
            Buffer.from(` bytes",${json({}, ['prompt']).slice(1)}`),
          ]),
        ),
      status: [200],
      session: true,
      check: (_res, row) => assert.match(String(row?.prompt), /^bad \uFFFD/),
    },
    {
      name: 'prompt with newlines, CR and U+2028',
      send: (p) => post(p, json({ prompt: 'line1\nline2\r\n\u2028\u2029end' })),
      status: [200],
      session: true,
      check: (_r, row) => assert.equal(row?.prompt, 'line1\nline2\r\n\u2028\u2029end'),
    },
    {
      name: 'prompt with NUL and control characters',
      send: (p) => post(p, json({ prompt: 'a\u0000b\u0001c\u001b[31m' })),
      status: [200],
      session: true,
      check: (_r, row) => assert.equal(row?.prompt, 'a\u0000b\u0001c\u001b[31m'),
    },
    {
      name: 'prompt with lone surrogates',
      send: (p) => post(p, withRaw('prompt', '"x\\ud800y\\udfffz"')),
      status: [200],
      session: true,
      check: (_r, row) => assert.equal(row?.prompt, 'x\uFFFDy\uFFFDz'),
    },
    {
      name: '900 KB prompt (row keeps 4,000 code points)',
      send: (p) => post(p, json({ prompt: '😀'.repeat(225_000) })),
      status: [200],
      session: true,
      check: (_r, row) => assert.equal([...String(row?.prompt)].length, 4000),
    },
    // Hostile trace headers: ignored (fresh id), never echoed; the session runs.
    {
      name: 'X-Lakehouse-Trace-Id of 8 KB',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: ${MARKER}${'a'.repeat(8000)}`]),
      status: [200],
      session: true,
    },
    {
      name: 'X-Lakehouse-Trace-Id all zeros',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: ${'0'.repeat(32)}`]),
      status: [200],
      session: true,
      notEchoed: '0'.repeat(32),
    },
    {
      name: 'X-Lakehouse-Trace-Id with script text',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: <script>${MARKER}</script>`]),
      status: [200],
      session: true,
    },
    {
      name: 'X-Lakehouse-Trace-Id with a tab and spaces',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: ab\tcd ${MARKER}`]),
      status: [200],
      session: true,
    },
    {
      name: 'X-Lakehouse-Trace-Id with CRLF-injected Set-Cookie',
      send: (p) =>
        post(p, validText(), [`x-lakehouse-trace-id: ${MARKER}`, `set-cookie: ${MARKER}=1`]),
      status: [200],
      session: true,
      check: (res) => assert.equal(res.headers['set-cookie'], undefined),
    },
    {
      name: 'X-Lakehouse-Trace-Id with a NUL byte (rejected by the HTTP parser)',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: abc\u0000${MARKER}`]),
      status: [400],
      session: false,
    },
    {
      name: 'two X-Lakehouse-Trace-Id headers',
      send: (p) =>
        post(p, validText(), [
          'x-lakehouse-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736',
          `x-lakehouse-trace-id: ${MARKER}`,
        ]),
      status: [200],
      session: true,
    },
    {
      name: 'X-Lakehouse-Trace-Id as an uppercase UUID (valid: normalised)',
      send: (p) =>
        post(p, validText(), ['x-lakehouse-trace-id: 4BF92F35-77B3-4DA6-A3CE-929D0E0E4736']),
      status: [200],
      session: true,
      check: (res) =>
        assert.equal(res.headers['x-lakehouse-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736'),
    },
    {
      name: 'traceparent of 8 KB',
      send: (p) =>
        post(p, validText(), [`traceparent: 00-${MARKER}${'b'.repeat(8000)}-00f067aa0ba902b7-01`]),
      status: [200],
      session: true,
    },
    {
      name: 'traceparent with an all-zero trace id',
      send: (p) =>
        post(p, validText(), [
          'traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01',
        ]),
      status: [200],
      session: true,
    },
    {
      name: 'traceparent with version ff and junk',
      send: (p) => post(p, validText(), [`traceparent: ff-${MARKER}-zz`]),
      status: [200],
      session: true,
    },
    {
      name: 'headers over 16 KiB in total',
      send: (p) => post(p, validText(), [`x-lakehouse-trace-id: ${MARKER}${'c'.repeat(20_000)}`]),
      status: [431],
      session: false,
    },
  ];

  function body(res: RawResponse): string {
    const split = res.text.indexOf('\r\n\r\n');
    return split >= 0 ? res.text.slice(split + 4) : '';
  }

  function fieldIs(field: string) {
    return (res: RawResponse) => {
      const parsed = JSON.parse(body(res)) as { field?: unknown; error?: unknown };
      assert.equal(parsed.field, field, String(parsed.error));
      assert.match(String(parsed.error), new RegExp(field));
    };
  }

  for (const c of cases) {
    it(`${c.name}: ${c.status.join(' or ')}${c.session ? ', session recorded' : ''}`, async (t) => {
      const res = await c.send(stack.gateway.port);
      assert.ok(c.status.includes(res.status), `status ${res.status}: ${res.text.slice(0, 400)}`);
      const notEchoed = c.notEchoed ?? MARKER;
      assert.ok(
        !res.text.includes(notEchoed),
        `the answer echoes ${notEchoed}: ${res.text.slice(0, 400)}`,
      );
      assert.ok(!stack.gateway.exited(), 'the gateway is still running');
      assert.equal((await fetch(`${stack.gateway.url}/healthz`)).status, 200);
      let row: Record<string, unknown> | undefined;
      const traceId = res.headers['x-lakehouse-trace-id'];
      // Every answer from the app carries a valid trace id (the HTTP parser's bare 400/431 do not).
      if (res.headers['content-type']?.includes('json')) {
        assert.match(String(traceId), /^[0-9a-f]{32}$/);
        const bodyTraceId = (JSON.parse(body(res)) as { trace_id?: unknown }).trace_id;
        if (bodyTraceId !== undefined) assert.equal(bodyTraceId, traceId);
      }
      if (c.session) {
        assert.ok(traceId);
        began.push({ name: c.name, traceId });
        row = await eventually(
          () => readSessionFile(stack.sessionLogPath).rows.find((r) => r.session_id === traceId),
          15_000,
          `row of ${c.name}`,
        );
      } else if (traceId) {
        const rows = readSessionFile(stack.sessionLogPath).rows;
        assert.equal(
          rows.some((r) => r.session_id === traceId),
          false,
          'no row for a request refused before its session',
        );
      }
      c.check?.(res, row);
      reportEvidence(t, {
        fault: `bad input: ${c.name}`,
        expectation: `${c.status.join('/')}${c.session ? ', row + trace' : ', no session'}, not echoed, no crash`,
        evidence: `${res.status}${c.session ? ', row written' : ''}`,
      });
    });
  }

  it('after SIGTERM: every line of the log is one valid row, and every session that began has one trace tree', async (t) => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
    const code = await stack.gateway.stop();
    assert.equal(code, 0, 'the gateway never crashed and exits cleanly');
    const { rows, badLines, text } = readSessionFile(stack.sessionLogPath);
    assert.deepEqual(badLines, []);
    // Every non-empty line is one row (a writer starts each write on a fresh line).
    assert.equal(text.split('\n').filter((l) => l !== '').length, rows.length, 'one row per line');
    assert.equal(rows.length, began.length, 'rows == sessions that began');
    const traces = buildTraces(receiver.spans);
    for (const s of began) {
      const trace = traces.get(s.traceId);
      assert.ok(trace, `${s.name}: trace recorded`);
      assert.equal(trace.roots.length, 1, `${s.name}: one root`);
      assert.deepEqual(trace.dangling, [], `${s.name}: no dangling`);
    }
    assert.ok(
      !receiver.requests.some((r) => r.body.includes(MARKER + 'a'.repeat(100))),
      'oversized header values never exported',
    );
    reportEvidence(t, {
      fault: `bad input: all ${cases.length} cases, then SIGTERM`,
      expectation: 'exit 0, rows == sessions begun, one tree each, JSONL valid',
      evidence: `exit ${code}; ${rows.length}/${began.length} rows; ${began.length}/${began.length} trees; 0 bad lines`,
    });
  });
});
