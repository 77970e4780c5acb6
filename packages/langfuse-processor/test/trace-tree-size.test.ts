import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildLangfuseTrees, langfuseTreeFromObservations, renderTraceTree } from '../src/index.js';
import type { LangfuseApiObservation } from '../src/index.js';

const TRACE = 'd'.repeat(32);
const spanId = (i: number): string => (i + 1).toString(16).padStart(16, '0');
// Past what one call can take as spread arguments (about 120,000 here): trace ids are chosen by
// callers, so one client can grow one trace that far.
const SIZES = fc.integer({ min: 130_000, max: 200_000 });

describe('trees of any size', () => {
  it('buildLangfuseTrees and renderTraceTree take a trace of 130,000–200,000 spans', () => {
    fc.assert(
      fc.property(SIZES, fc.integer({ min: 0, max: 1_000_000 }), (n, offset) => {
        const spans = Array.from({ length: n }, (_, i) => ({
          traceId: TRACE,
          spanId: spanId(i),
          ...(i > 0 ? { parentSpanId: spanId(0) } : {}),
          name: `attempt ${i}`,
          startTimeUnixNano: String(BigInt(offset + n - i) * 1_000_000n),
          endTimeUnixNano: String(BigInt(offset + n + i) * 1_000_000n),
        }));
        const [tree] = buildLangfuseTrees([{ resourceSpans: [{ scopeSpans: [{ spans }] }] }]);
        assert.equal(tree?.observations.length, n);
        assert.equal(tree.startTimeMs, offset + 1);
        assert.equal(tree.endTimeMs, offset + 2 * n - 1);
        assert.equal(renderTraceTree(tree).split('\n').length, n);
      }),
      { numRuns: 3 },
    );
  });

  it('langfuseTreeFromObservations takes 130,000–200,000 observations from the public API', () => {
    fc.assert(
      fc.property(SIZES, (n) => {
        const list: LangfuseApiObservation[] = Array.from({ length: n }, (_, i) => ({
          id: spanId(i),
          parentId: i > 0 ? spanId(0) : undefined,
          isRoot: i === 0,
          name: `o${i}`,
          type: 'SPAN',
          level: 'DEFAULT',
          model: undefined,
          usage: undefined,
          statusMessage: undefined,
          startTime: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
          endTime: new Date(Date.UTC(2026, 0, 1) + 2 * n - i).toISOString(),
        }));
        const tree = langfuseTreeFromObservations(TRACE, list);
        assert.equal(tree.observations.length, n);
        assert.equal(tree.startTimeMs, Date.UTC(2026, 0, 1));
        assert.equal(tree.endTimeMs, Date.UTC(2026, 0, 1) + 2 * n);
      }),
      { numRuns: 3 },
    );
  });
});
