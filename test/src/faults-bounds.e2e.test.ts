// Client input bounded wherever it lands (issue #12, invariants 1 and 8), on the real services:
// huge model and provider names, huge validation requests, an upstream's huge completion or model
// name, an upstream refusing max_tokens, and a body at exactly BODY_LIMIT_BYTES.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { openAiCompletion, requestJson, sendJson, startStubServer } from '@lakehouse/test-support';
import { eventually, fillRequest, postJson, startStack } from './harness.js';
import type { Stack } from './harness.js';
import { metricSum, readSessionFile, reportEvidence, rssMiB } from './faults-helpers.js';

const LABEL_MAX = 128;
const SERIES_MAX = 200;

/** A stand-in OpenAI-compatible upstream whose answer each test sets. */
interface Upstream {
  url: string;
  answer: (body: Record<string, unknown>, res: http.ServerResponse) => void;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const upstream = {
    answer: (_body: Record<string, unknown>, res: http.ServerResponse) =>
      completion(res, 'ok', 'gpt-test'),
  };
  const stub = await startStubServer((req, res) => upstream.answer(requestJson(req), res));
  return Object.assign(upstream, { url: stub.url, close: () => stub.close() });
}

function completion(res: http.ServerResponse, content: string, model: string): void {
  sendJson(res, 200, openAiCompletion(model, content));
}

/** Label values of every sample line on a Prometheus page. */
function labelValues(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    for (const m of line.matchAll(/="((?:[^"\\]|\\.)*)"/g)) values.push(m[1] ?? '');
  }
  return values;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

describe('faults: client input is bounded wherever it lands', () => {
  let upstream: Upstream;
  let stack: Stack;

  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({
      chatdEnv: {
        PROVIDERS: JSON.stringify([
          { name: 'up', type: 'openai', base_url: `${upstream.url}/v1`, max_retries: 0 },
        ]),
      },
    });
  });
  after(async () => {
    await stack?.stop();
    await upstream?.close();
  });

  it('600 KB model names (client and upstream): refused or cut, and /metrics stays small and up', async (t) => {
    const huge = (i: number) => `${i}-${'m'.repeat(600_000)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await postJson(
        `${stack.gateway.url}/v1/iterate`,
        await fillRequest(huge(i), { max_iterations: 1 }),
      );
      statuses.push(res.status);
      assert.equal(res.status, 400);
      assert.equal(res.body.field, 'model');
      assert.ok(JSON.stringify(res.body).length < 1000);
    }
    // The upstream names a 600 KB model in its answer: chatd records it, cut, as a label.
    for (let i = 0; i < 9; i++) {
      upstream.answer = (_b, res) => completion(res, 'hello', huge(i));
      const direct = await postJson(`${stack.chatd.url}/v1/chat`, {
        provider: 'up',
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(direct.status, 200);
      assert.ok(String(direct.body.model).length <= 256, 'the answer carries the model cut');
    }
    const pages = [await scrape(stack.chatd.url), await scrape(stack.gateway.url)];
    const longest = Math.max(...pages.flatMap((p) => labelValues(p).map((v) => v.length)));
    assert.ok(longest <= LABEL_MAX, `a label value of ${longest} characters`);
    const sizes = pages.map((p) => p.length);
    assert.ok(
      sizes.every((n) => n < 1_000_000),
      `exposition sizes ${sizes.join(', ')}`,
    );
    // The first names are kept, cut; later ones fold once their lines spend the byte budget
    // (a 130-byte name on a histogram of 17 lines costs 2.2 KB of the 16 KiB).
    assert.ok(
      pages[0]?.includes('gen_ai_response_model="0-mmm'),
      pages[0]
        ?.split('\n')
        .filter((l) => l.includes('response_model'))
        .slice(0, 3)
        .join('\n'),
    );
    reportEvidence(t, {
      fault:
        'bounds: 9 iterate calls with a 600 KB model, 9 upstream answers naming a 600 KB model, then /metrics',
      expectation: `model refused (400) or cut to ${LABEL_MAX} chars as a label; /metrics answers`,
      evidence: `gateway ${[...new Set(statuses)].join('/')}×9; scrapes 200, ${sizes.map((n) => `${(n / 1024).toFixed(0)} KiB`).join(' + ')}, longest label ${longest} chars`,
    });
  });

  it('2,000 distinct model names: series per instrument capped, the rest in one overflow series', async (t) => {
    for (let i = 0; i < SERIES_MAX + 100; i++) {
      const res = await postJson(`${stack.chatd.url}/v1/chat`, {
        provider: 'sim',
        model: `clean-${i}`,
        messages: [{ role: 'user', content: 'Artifact kind: email' }],
      });
      assert.equal(res.status, 200);
    }
    // Scrapes in between do not reset the cap (they would with the SDK's per-collection limit).
    await scrape(stack.chatd.url);
    for (let i = SERIES_MAX + 100; i < 2_000; i += 50) {
      await postJson(`${stack.chatd.url}/v1/chat`, {
        provider: 'sim',
        model: `clean-${i}`,
        messages: [{ role: 'user', content: 'Artifact kind: email' }],
      });
    }
    const text = await scrape(stack.chatd.url);
    const durationSeries = text
      .split('\n')
      .filter((l) => l.startsWith('gen_ai_client_operation_duration_count{'));
    // The earlier test's names from provider "up" (type openai) fold into their own overflow
    // series: an overflow series keeps the provider. This flood's is the other one.
    const overflow = durationSeries.filter(
      (l) =>
        l.includes('otel_metric_overflow="true"') && !l.includes('gen_ai_provider_name="openai"'),
    );
    assert.ok(durationSeries.length <= SERIES_MAX + 1, `${durationSeries.length} series`);
    assert.equal(overflow.length, 1, 'one overflow series');
    const folded = await metricSum(stack.chatd.url, 'lakehouse_metric_overflow_total');
    assert.ok(folded > 0);
    reportEvidence(t, {
      fault: 'bounds: 2,000 distinct model names on chatd, scraped in between',
      expectation: `≤ ${SERIES_MAX} series per instrument + one otel_metric_overflow series`,
      evidence: `gen_ai_client_operation_duration: ${durationSeries.length} series (1 overflow); ${folded} measurements folded`,
    });
  });

  it('/v1/validate with 2,000 candidates and a city padded with 200 KB of spaces: a small 422', async (t) => {
    const city = `Allentown${' '.repeat(200_000)}`;
    const fills = Array.from({ length: 2_000 }, (_, i) => ({
      candidate_id: `W-${i + 1}`,
      name: `name ${'x'.repeat(200)}`,
    }));
    const body = JSON.stringify({
      kind: 'fill',
      artifact: { fills },
      context: {
        target_count: 2_000,
        city,
        state: 'PA',
        role: 'picker packer',
        client_id: 'C-007',
      },
    });
    const res = await fetch(`${stack.gateway.url}/v1/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 422);
    const report = JSON.parse(text) as {
      errors: unknown[];
      warnings: unknown[];
      omitted_errors?: number;
    };
    assert.equal(report.errors.length, 50);
    assert.ok((report.omitted_errors ?? 0) > 1_000, JSON.stringify(report.omitted_errors));
    assert.ok(text.length < 64 * 1024, `422 of ${text.length} bytes`);
    assert.ok(!text.includes('Allentown'), 'the contract value is never repeated');
    assert.ok(!text.includes('x'.repeat(65)), 'no model value longer than 64 characters');
    // A contract value that stays huge after trimming is the caller's error.
    const tooLong = await postJson(`${stack.gateway.url}/v1/validate`, {
      kind: 'fill',
      artifact: { fills: [] },
      context: { city: 'c'.repeat(300) },
    });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.field, 'context.city');
    reportEvidence(t, {
      fault:
        'bounds: /v1/validate with 2,000 candidates, 200-char names and a city padded with 200 KB of spaces',
      expectation: '422 bounded in entries and bytes, no contract value repeated per error',
      evidence: `422 of ${(text.length / 1024).toFixed(1)} KiB for a ${(body.length / 1024).toFixed(0)} KiB request: 50 errors listed, ${report.omitted_errors} omitted; 300-char city → 400`,
    });
  });

  it('an unknown 900 KB provider is refused with a small answer, by the gateway and by chatd', async (t) => {
    const provider = `p${'v'.repeat(900_000)}`;
    const viaGateway = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('clean', { provider }),
    );
    const direct = await postJson(`${stack.chatd.url}/v1/chat`, {
      provider,
      model: 'clean',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const unknown = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('clean', { provider: 'q'.repeat(250) }),
    );
    const sizes = [viaGateway, direct, unknown].map((r) => JSON.stringify(r.body).length);
    assert.equal(viaGateway.status, 400);
    assert.equal(viaGateway.body.field, 'provider');
    assert.equal(direct.status, 404);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.field, 'provider');
    assert.ok(
      sizes.every((n) => n < 2_000),
      `bodies of ${sizes.join(', ')} bytes`,
    );
    reportEvidence(t, {
      fault: 'bounds: unknown 900 KB provider (gateway and chatd), unknown 250-char provider',
      expectation: 'a 4xx naming provider, the name never echoed in full',
      evidence: `gateway 400 / chatd 404 / gateway 400; bodies ${sizes.join(', ')} bytes`,
    });
  });

  it('an upstream 150 MiB completion: chatd stops reading at 16 MiB and answers 502', async (t) => {
    const total = 150 * 1024 * 1024;
    let written = 0;
    let closedEarly = false;
    upstream.answer = (_b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      res.write(
        '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"',
      );
      const pump = (): void => {
        while (written < total) {
          if (res.destroyed) return;
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end('"}}]}');
      };
      res.once('close', () => {
        if (written < total) closedEarly = true;
      });
      pump();
    };
    const before = rssMiB(stack.chatd.child.pid);
    const res = await postJson(`${stack.chatd.url}/v1/chat`, {
      provider: 'up',
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.status, 502);
    assert.match(String(res.body.error), /body over 16777216 bytes/);
    await eventually(() => (closedEarly ? true : undefined), 10_000, 'the upstream socket closed');
    assert.ok(written < total, `upstream wrote ${written} bytes`);
    const viaGateway = await postJson(
      `${stack.gateway.url}/v1/iterate`,
      await fillRequest('m', { provider: 'up', max_iterations: 1 }),
    );
    assert.equal(viaGateway.status, 502);
    assert.equal(viaGateway.body.final_verdict, 'infra_error');
    const afterRss = rssMiB(stack.chatd.child.pid);
    reportEvidence(t, {
      fault: 'bounds: upstream answers a 150 MiB completion',
      expectation: 'chatd reads at most 16 MiB, answers 502, no retry; gateway 502 infra_error',
      evidence: `502 "${String(res.body.error).slice(0, 70)}"; upstream wrote ${(written / 1048576).toFixed(0)} of 150 MiB before chatd hung up; chatd RSS ${before?.toFixed(0)} → ${afterRss?.toFixed(0)} MiB`,
    });
  });

  it("max_tokens 9,000,000 refused by the upstream is the caller's 400, not an infra failure", async (t) => {
    upstream.answer = (body, res) => {
      if (Number(body['max_tokens']) > 16_384) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: `max_tokens is too large: ${String(body['max_tokens'])}. This model supports at most 16384 completion tokens.`,
              type: 'invalid_request_error',
              param: 'max_tokens',
            },
          }),
        );
        return;
      }
      completion(res, '{"to":"a@b.c","subject":"s","body":"b"}', 'gpt-test');
    };
    const infraBefore = await sessionsWith('infra_error');
    const res = await postJson(`${stack.gateway.url}/v1/iterate`, {
      kind: 'email',
      prompt: 'write',
      provider: 'up',
      model: 'gpt-test',
      max_tokens: 9_000_000,
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(String(res.body.error), /max_tokens is too large/);
    assert.equal('final_verdict' in res.body, false);
    const traceId = String(res.body.trace_id);
    const row = await eventually(
      () => readSessionFile(stack.sessionLogPath).rows.find((r) => r.session_id === traceId),
      10_000,
      'the row of the refused session',
    );
    const rejected = await eventually(
      async () => ((await sessionsWith('rejected')) > 0 ? sessionsWith('rejected') : undefined),
      10_000,
      'a rejected session in the metrics',
    );
    assert.equal(await sessionsWith('infra_error'), infraBefore, 'not counted as infra');
    reportEvidence(t, {
      fault: 'bounds: max_tokens 9,000,000, refused by the upstream (400)',
      expectation: "caller's 400, row written, not counted as infra_error",
      evidence: `400 "${String(res.body.error).slice(0, 60)}…"; row ${String(row.final_verdict)}; sessions{final_verdict="rejected"} ${rejected}, infra_error unchanged (${infraBefore})`,
    });
  });

  async function sessionsWith(verdict: string): Promise<number> {
    const text = await scrape(stack.gateway.url);
    let sum = 0;
    for (const line of text.split('\n')) {
      if (
        line.startsWith('lakehouse_iterate_sessions_total{') &&
        line.includes(`final_verdict="${verdict}"`)
      )
        sum += Number(line.split(' ').pop());
    }
    return sum;
  }
});

describe('faults: a body of exactly BODY_LIMIT_BYTES', () => {
  const LIMIT = 65_536;
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { BODY_LIMIT_BYTES: String(LIMIT) } });
  });
  after(async () => {
    await stack?.stop();
  });

  it("is refused 413 up front when its chat hop would not fit chatd's identical limit", async (t) => {
    const base = await fillRequest('clean');
    const sized = (prompt: string) => JSON.stringify({ ...base, prompt });
    const filler = (n: number, ch: string) => ch.repeat(n);
    // Exactly LIMIT bytes; then 40 KB whose contract is quoted into the prompt (escaped twice).
    const plainLen = LIMIT - Buffer.byteLength(sized(''));
    const exact = sized(filler(plainLen, 'a'));
    assert.equal(Buffer.byteLength(exact), LIMIT);
    const context = base['context'] as Record<string, unknown>;
    const escaped = JSON.stringify({ ...base, context: { ...context, note: filler(20_000, '"') } });
    assert.ok(Buffer.byteLength(escaped) < LIMIT);
    const results = [];
    for (const body of [exact, escaped]) {
      const res = await fetch(`${stack.gateway.url}/v1/iterate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as Record<string, unknown>;
      results.push(res.status);
      assert.equal(res.status, 413, JSON.stringify(json).slice(0, 300));
      assert.equal(json.field, 'body');
      assert.match(String(json.error), /chat request built from .* exceeds BODY_LIMIT_BYTES/);
    }
    // Nothing began: no row for either.
    const fits = await postJson(`${stack.gateway.url}/v1/iterate`, {
      ...base,
      prompt: 'a'.repeat(1000),
    });
    assert.equal(fits.status, 200);
    const rows = await eventually(
      () => {
        const r = readSessionFile(stack.sessionLogPath).rows;
        return r.length > 0 ? r : undefined;
      },
      10_000,
      'the row of the session that fits',
    );
    assert.equal(rows.length, 1);
    reportEvidence(t, {
      fault: `bounds: a body of exactly BODY_LIMIT_BYTES (${LIMIT}), and a 40 KB one whose contract is quoted into the prompt (escaped twice)`,
      expectation: '413 up front naming body (no session), not a chatd 413 mid-session',
      evidence: `${results.join(', ')}; a smaller body 200; rows 1 (only the session that began)`,
    });
  });
});
