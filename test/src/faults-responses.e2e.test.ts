// What the services send back is bounded whatever the model writes or the client sends: a huge
// completion is cut where chatd forwards it and in the gateway's history, and the validate hop
// carries any artifact and contract the first chat request could (it never turns a client's
// big contract into an infra_error).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, postJson, startStack } from './harness.js';
import { openAiCompletion, startStubServer } from '@lakehouse/test-support';
import { readSessionFile, reportEvidence, rssMiB } from './faults-helpers.js';

const MiB = 1024 * 1024;

describe('faults: bounded answers', () => {
  it('a 16 MiB completion, 10 iterations: chatd forwards a capped content, the 422 is bounded', async (t) => {
    const content = 'a'.repeat(16 * MiB - 400);
    const payload = JSON.stringify(openAiCompletion('m', content));
    const upstream = await startStubServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(payload),
    );
    const providers = [
      { name: 'up', type: 'openai', base_url: `${upstream.url}/v1`, max_retries: 0 },
    ];
    const stack = await startStack({ chatdEnv: { PROVIDERS: JSON.stringify(providers) } });
    const { chatd, gateway, sessionLogPath } = stack;
    try {
      const direct = await postJson(`${chatd.url}/v1/chat`, {
        provider: 'up',
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const request = JSON.stringify({
        kind: 'email',
        prompt: 'x',
        provider: 'up',
        model: 'm',
        max_iterations: 10,
      });
      const before = rssMiB(gateway.child.pid) ?? 0;
      const res = await postJson(`${gateway.url}/v1/iterate`, request);
      const after = rssMiB(gateway.child.pid) ?? 0;
      const history = res.body['history'] as Array<{ raw: string; raw_truncated_chars?: number }>;
      const bytes = Buffer.byteLength(res.text);
      const evidence = `request ${request.length} bytes → ${res.status} of ${bytes} bytes; ${history.length} raws of ${history[0]?.raw.length} chars (+${history[0]?.raw_truncated_chars} cut); chatd content ${String(direct.body['content']).length} chars (+${String(direct.body['content_truncated_chars'])} cut); gateway RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`;
      t.diagnostic(evidence);
      assert.equal(direct.status, 200);
      assert.ok(String(direct.body['content']).length <= 2 * MiB, 'chatd caps what it forwards');
      assert.equal(
        String(direct.body['content']).length + Number(direct.body['content_truncated_chars']),
        content.length,
        'and says how much it cut',
      );
      assert.equal(res.status, 422);
      assert.equal(history.length, 10);
      for (const h of history) {
        assert.ok(h.raw.length <= 65_536, `raw of ${h.raw.length} chars`);
        assert.equal(h.raw.length + Number(h.raw_truncated_chars), 2 * MiB);
      }
      assert.ok(bytes < MiB, `422 of ${bytes} bytes`);
      await eventually(
        () => (readSessionFile(sessionLogPath).rows.length === 1 ? true : undefined),
        10_000,
        'the row',
      );
      reportEvidence(t, {
        fault: 'amplification: a 16 MiB completion on every one of 10 iterations',
        expectation:
          'chatd forwards at most 2 Mi chars (says how many it cut); each history raw ≤ 64 Ki chars; the 422 < 1 MiB',
        evidence,
      });
    } finally {
      await stack.stop();
      await upstream.close();
    }
  });

  it('a contract near BODY_LIMIT_BYTES echoed by the model: the validate hop still carries it', async (t) => {
    const stack = await startStack();
    const { gateway, sessionLogPath } = stack;
    try {
      // sim writes the contract's `to` into the email: artifact + contract ≈ 1.2 MB on the hop.
      const to = `a@${'é'.repeat(300_000)}`;
      const res = await postJson(`${gateway.url}/v1/iterate`, {
        kind: 'email',
        prompt: 'write',
        provider: 'sim',
        model: 'clean',
        max_iterations: 1,
        context: { to },
      });
      const rows = await eventually(
        () => {
          const found = readSessionFile(sessionLogPath).rows;
          return found.length === 1 ? found : undefined;
        },
        10_000,
        'the row',
      );
      const evidence = `${res.status} ${String(res.body['error'] ?? 'accepted').slice(0, 60)}; row ${String(rows[0]?.['final_verdict'])}`;
      t.diagnostic(evidence);
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      assert.equal(rows[0]?.['final_verdict'], 'accepted');
      reportEvidence(t, {
        fault: 'validate hop: a 600 KB contract value the model echoes into a 600 KB artifact',
        expectation:
          'the hop carries artifact + contract (its limit covers both): 200, never infra_error',
        evidence,
      });
    } finally {
      await stack.stop();
    }
  });
});
