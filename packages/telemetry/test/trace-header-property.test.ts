import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultTextMapGetter, isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import fc from 'fast-check';
import { classifyTraceIdHeader, createPropagator, MAX_TRACE_ID_HEADER_BYTES, parseTraceIdHeader } from '../src/index.js';

const ZEROS = '0'.repeat(32);

// 32 hex digits, any case, never all zeros.
const traceIdHex = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((bytes) => Buffer.from(bytes).toString('hex'))
  .filter((hex) => hex !== ZEROS);

const mixedCase = (hex: string, flips: boolean[]): string =>
  [...hex].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');

const asUuid = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

// Header-ish junk: hex-like characters, separators, controls, non-ASCII and raw binary.
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: fc.constantFrom('a', 'F', '0', '9', '-', ' ', '\t', '\r', '\n', '\u0000', '\u007f', 'é', 'g', ','), maxLength: 80 }),
);

describe('property: the x-lakehouse-trace-id parser', () => {
  it('accepts 32 hex or a UUID in any case and normalises to the lowercase id', () => {
    fc.assert(
      fc.property(traceIdHex, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.boolean(), (hex, flips, uuid) => {
        const header = mixedCase(uuid ? asUuid(hex) : hex, flips);
        assert.deepEqual(classifyTraceIdHeader(header), { ok: true, traceId: hex });
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any value, and only ever returns a valid 32-lowercase-hex id', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.anything()), (value) => {
        const result = classifyTraceIdHeader(value);
        if (result.ok) {
          assert.match(result.traceId, /^[0-9a-f]{32}$/);
          assert.notEqual(result.traceId, ZEROS);
          assert.equal(typeof value, 'string');
          // The id is derived from the value: same hex digits, dashes and case aside.
          assert.equal((value as string).trim().toLowerCase().replaceAll('-', ''), result.traceId);
        } else {
          assert.equal(parseTraceIdHeader(value), undefined);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects any value with a control character or over the byte limit', () => {
    fc.assert(
      fc.property(traceIdHex, fc.constantFrom('\u0000', '\r', '\n', '\u001b', '\u007f'), fc.nat(32), (hex, control, at) => {
        assert.equal(classifyTraceIdHeader(hex.slice(0, at) + control + hex.slice(at)).ok, false);
      }),
    );
    fc.assert(
      fc.property(traceIdHex, fc.integer({ min: MAX_TRACE_ID_HEADER_BYTES - 31, max: 20_000 }), (hex, pad) => {
        assert.deepEqual(classifyTraceIdHeader(hex + ' '.repeat(pad)), { ok: false, reason: 'too_long' });
      }),
      { numRuns: 50 },
    );
  });
});

describe('property: inbound trace headers through the composite propagator', () => {
  const propagator = createPropagator();
  const extract = (headers: Record<string, string>) =>
    trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));

  it('a valid traceparent always wins over any x-lakehouse-trace-id', () => {
    fc.assert(
      fc.property(traceIdHex, fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.oneof(hostile, traceIdHex), (hex, span, mirror) => {
        const spanId = Buffer.from(span).toString('hex');
        fc.pre(spanId !== '0000000000000000');
        const ctx = extract({ traceparent: `00-${hex}-${spanId}-01`, 'x-lakehouse-trace-id': mirror });
        assert.equal(ctx?.traceId, hex);
        assert.equal(ctx?.spanId, spanId);
      }),
      { numRuns: 300 },
    );
  });

  it('with a broken traceparent, the trace id is the valid mirror header or none at all', () => {
    fc.assert(
      fc.property(hostile, fc.oneof(hostile, traceIdHex), (traceparent, mirror) => {
        const ctx = extract({ traceparent, 'x-lakehouse-trace-id': mirror });
        if (ctx === undefined || !isSpanContextValid(ctx)) return;
        const fromMirror = parseTraceIdHeader(mirror);
        // Either the junk happened to be a valid traceparent, or the mirror seeded the id.
        const fromParent = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim())?.[1];
        assert.ok(ctx.traceId === fromParent || ctx.traceId === fromMirror, `${ctx.traceId} from ${JSON.stringify([traceparent, mirror])}`);
        assert.match(ctx.traceId, /^[0-9a-f]{32}$/);
      }),
      { numRuns: 1000 },
    );
  });
});
