// Property, at the wire: whatever a client sends the real services (generated sizes, unicode,
// control and escape characters, nesting), the answer is a 2xx/4xx of bounded size, the
// services stay up, and /metrics stays bounded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fillRequest, postJson, startStack } from './harness.js';
import type { Stack } from './harness.js';
import { anySizeText, hostileText, nested } from '@lakehouse/test-support';

// Largest answer a refusal or a validation report may take, whatever came in.
const MAX_ERROR_BODY = 64 * 1024;

/** Every label value's length on a Prometheus page, and the page's size. */
async function metricBounds(url: string): Promise<{ longestLabel: number; bytes: number }> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  let longest = 0;
  for (const m of text.matchAll(/="((?:[^"\\]|\\.)*)"/g))
    longest = Math.max(longest, m[1]?.length ?? 0);
  return { longestLabel: longest, bytes: text.length };
}

describe('property: hostile input at the wire (real gateway and chatd)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it(
    'iterate: any model, provider, prompt, system and contract values get a bounded 2xx/4xx',
    { timeout: 300_000 },
    async () => {
      const base = await fillRequest('clean');
      const context = base['context'] as Record<string, unknown>;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            model: fc.oneof(
              anySizeText(700_000),
              fc.constantFrom('clean', 'phantom-once', 'prose-once'),
            ),
            provider: fc.oneof(anySizeText(700_000), fc.constant('sim')),
            prompt: anySizeText(200_000),
            system: fc.option(hostileText(200)),
            city: fc.option(anySizeText(200_000)),
            max_iterations: fc.integer({ min: 1, max: 3 }),
            max_tokens: fc.oneof(fc.integer({ min: 1, max: 9_000_000 }), fc.constant(4096)),
          }),
          async (v) => {
            const body = {
              ...base,
              model: v.model,
              provider: v.provider,
              prompt: v.prompt,
              ...(v.system !== null ? { system: v.system } : {}),
              context: v.city === null ? context : { ...context, city: v.city },
              max_iterations: v.max_iterations,
              max_tokens: v.max_tokens,
            };
            const res = await fetch(`${stack.gateway.url}/v1/iterate`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            const text = await res.text();
            assert.ok(res.status < 500, `${res.status}: ${text.slice(0, 300)}`);
            if (res.status >= 400 && res.status !== 422) {
              assert.ok(text.length < MAX_ERROR_BODY, `${res.status} of ${text.length} bytes`);
              assert.ok(!text.includes(v.model.slice(0, 300)) || v.model.length <= 64);
            }
          },
        ),
        { numRuns: 60 },
      );
      for (const url of [stack.gateway.url, stack.chatd.url]) {
        const { longestLabel, bytes } = await metricBounds(url);
        assert.ok(longestLabel <= 128, `a ${longestLabel}-character label on ${url}`);
        assert.ok(bytes < 2_000_000, `${bytes} bytes of metrics on ${url}`);
      }
    },
  );

  it(
    'validate: any artifact and contract gets a 2xx/4xx no bigger than the cap',
    { timeout: 300_000 },
    async () => {
      const fillEntry = fc.oneof(
        fc.record({
          candidate_id: fc.oneof(
            anySizeText(50_000),
            fc.integer({ min: 1, max: 2500 }).map((n) => `W-${n}`),
          ),
          name: hostileText(100),
        }),
        fc.constantFrom(null, 1, 'x', [], {}),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.record({ fills: fc.array(fillEntry, { maxLength: 3000 }) }),
            fc.constant(nested(40)),
            hostileText(),
          ),
          fc.record({
            city: fc.option(anySizeText(200_000)),
            role: fc.option(hostileText(300)),
            target_count: fc.option(fc.integer({ min: -1, max: 5000 })),
          }),
          fc.constantFrom('fill', 'email', 'playbook'),
          async (artifact, ctx, kind) => {
            const context = Object.fromEntries(
              Object.entries(ctx).filter(([, value]) => value !== null),
            );
            const payload = JSON.stringify({ kind, artifact, context });
            if (Buffer.byteLength(payload) > 1_048_576) return; // the body limit's own 413
            const res = await fetch(`${stack.gateway.url}/v1/validate`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: payload,
            });
            const text = await res.text();
            assert.ok([200, 400, 422].includes(res.status), `${res.status}: ${text.slice(0, 200)}`);
            assert.ok(text.length < MAX_ERROR_BODY, `${res.status} of ${text.length} bytes`);
            if (res.status === 422) {
              const report = JSON.parse(text) as { errors: unknown[]; warnings: unknown[] };
              assert.ok(report.errors.length <= 50 && report.warnings.length <= 50);
            }
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it(
    'chat: any model, provider and messages get a bounded answer from chatd',
    { timeout: 300_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(anySizeText(700_000), fc.constantFrom('clean', 'phantom-always')),
          fc.oneof(anySizeText(700_000), fc.constant('sim')),
          fc.array(
            fc.record({
              role: fc.constantFrom('user', 'system', 'assistant', 'x'),
              content: anySizeText(100_000),
            }),
            { maxLength: 4 },
          ),
          async (model, provider, messages) => {
            const res = await postJson(`${stack.chatd.url}/v1/chat`, { provider, model, messages });
            assert.ok(res.status < 500 || res.status === 502, `${res.status}`);
            if (res.status >= 400) assert.ok(JSON.stringify(res.body).length < MAX_ERROR_BODY);
          },
        ),
        { numRuns: 60 },
      );
      const { longestLabel } = await metricBounds(stack.chatd.url);
      assert.ok(longestLabel <= 128, `a ${longestLabel}-character label`);
    },
  );
});
