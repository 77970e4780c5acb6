// Invariant 6 of issue 12, on generated input: whatever trace headers a client sends, it cannot
// turn tracing off, be trusted as a parent, or get anything of its own forwarded downstream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { propagation, trace, TraceFlags } from '@opentelemetry/api';
import fc from 'fast-check';
import {
  createPropagator,
  hopHeaders,
  HopSigner,
  HOP_SIGNATURE_HEADER,
  TRACE_ID_HEADER,
} from '../src/index.js';
import { configureRequestTracing, extractRequestTrace } from '../src/request-trace.js';

const signer = new HopSigner('property-test-hop-key-0123456789', true);
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const traceIdHex = hex(16).filter((h) => !/^0+$/.test(h));
const spanIdHex = hex(8).filter((h) => !/^0+$/.test(h));
const junk = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({
    unit: fc.constantFrom('a', '0', '-', '=', ',', ';', ' ', '%', 'é', '\t'),
    maxLength: 300,
  }),
);
// W3C baggage a client might send: many entries, big values, keys that look like ours.
const baggage = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'user.role',
          'langfuse.observation.parent_id',
          'tenant',
          'lakehouse.trusted',
        ),
        fc.string({ unit: fc.constantFrom('a', 'b', '.', '_', '1'), minLength: 1, maxLength: 20 }),
      ),
      fc.oneof(fc.constantFrom('admin', '00f067aa0ba902b7'), fc.string({ maxLength: 60 })),
    ),
    { maxLength: 180 },
  )
  .map((entries) => entries.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(','));
const traceparent = fc.oneof(
  fc.tuple(traceIdHex, spanIdHex, hex(1)).map(([t, s, flags]) => `00-${t}-${s}-${flags}`),
  junk,
);
const headers = fc.record(
  {
    traceparent,
    tracestate: junk,
    baggage,
    [TRACE_ID_HEADER]: fc.oneof(traceIdHex, junk),
    [HOP_SIGNATURE_HEADER]: fc.oneof(junk, fc.constant('v1=' + 'A'.repeat(22))),
  },
  { requiredKeys: [] },
);

describe('property: a request trace decided from any client headers', () => {
  before(() => {
    configureRequestTracing({ enabled: true, signer });
    propagation.setGlobalPropagator(createPropagator(signer));
  });
  after(() => {
    propagation.disable();
    configureRequestTracing({ enabled: false, signer: undefined });
  });

  it('is never trusted without our signature, is always sampled, carries no baggage or tracestate', () => {
    fc.assert(
      fc.property(headers, (h) => {
        const t = extractRequestTrace(h);
        assert.match(t.traceId, /^[0-9a-f]{32}$/);
        assert.equal(t.trusted, false);
        assert.equal(
          propagation.getBaggage(t.context),
          undefined,
          'client baggage never enters the context',
        );
        if (t.parent !== undefined) {
          assert.equal(t.source, 'traceparent');
          assert.equal(
            t.parent.traceFlags,
            TraceFlags.SAMPLED,
            'a -00 flag does not turn tracing off',
          );
          assert.equal(t.parent.traceState, undefined);
          assert.equal(t.parent.traceId, t.traceId);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a hop from the resulting context forwards only traceparent, the mirror and our own signature', () => {
    fc.assert(
      fc.property(headers, spanIdHex, (h, childSpan) => {
        const t = extractRequestTrace(h);
        const child = trace.wrapSpanContext({
          traceId: t.traceId,
          spanId: childSpan,
          traceFlags: TraceFlags.SAMPLED,
        });
        const out = hopHeaders(trace.setSpan(t.context, child));
        assert.deepEqual(
          Object.keys(out).sort(),
          ['traceparent', HOP_SIGNATURE_HEADER, TRACE_ID_HEADER].sort(),
        );
        assert.equal(out['traceparent'], `00-${t.traceId}-${childSpan}-01`);
        assert.equal(out[TRACE_ID_HEADER], t.traceId);
        assert.equal(out[HOP_SIGNATURE_HEADER], signer.sign(t.traceId, childSpan));
        // And the callee trusts exactly that.
        assert.equal(extractRequestTrace(out).trusted, true);
      }),
      { numRuns: 300 },
    );
  });

  it('trusts a parent only with the signature of that very trace id and span id', () => {
    fc.assert(
      fc.property(traceIdHex, spanIdHex, traceIdHex, spanIdHex, (t, s, t2, s2) => {
        const forged = signer.sign(t2, s2);
        const got = extractRequestTrace({
          traceparent: `00-${t}-${s}-01`,
          [HOP_SIGNATURE_HEADER]: forged,
        });
        assert.equal(got.trusted, t === t2 && s === s2);
      }),
      { numRuns: 300 },
    );
  });
});
