// Secrets: the Langfuse keys and a provider API key never appear in any output of either service:
// log lines (LOG_LEVEL=debug), exported spans (Langfuse stand-in and a plain OTLP receiver),
// session rows, metrics, and every HTTP response body, including error paths where the upstream
// provider echoes the key back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { postJson, startStack, fillRequest } from './harness.js';
import { startStubServer, startOtlpReceiver } from '@lakehouse/test-support';
import { readSessionFile, reportEvidence } from './faults-helpers.js';

const PROVIDER_KEY = `sk-test-${randomBytes(18).toString('hex')}`;
const LANGFUSE_PUBLIC = `pk-lf-${randomBytes(12).toString('hex')}`;
const LANGFUSE_SECRET = `sk-lf-${randomBytes(12).toString('hex')}`;
const BASIC = Buffer.from(`${LANGFUSE_PUBLIC}:${LANGFUSE_SECRET}`).toString('base64');

/** Every form of a secret worth grepping for: whole, without its prefix, and inside Basic auth. */
const NEEDLES: Record<string, string> = {
  'provider key': PROVIDER_KEY,
  'provider key body': PROVIDER_KEY.slice('sk-test-'.length),
  'Langfuse secret key': LANGFUSE_SECRET,
  'Langfuse secret body': LANGFUSE_SECRET.slice('sk-lf-'.length),
  'Langfuse public key': LANGFUSE_PUBLIC,
  'Langfuse Basic auth': BASIC,
};

function leaks(where: string, texts: readonly string[]): string[] {
  const found: string[] = [];
  for (const [name, needle] of Object.entries(NEEDLES)) {
    const hit = texts.find((t) => t.includes(needle));
    if (hit !== undefined) found.push(`${name} in ${where}: ${hit.slice(0, 200)}`);
  }
  return found;
}

describe('secrets never leave the processes', () => {
  it('keeps provider and Langfuse keys out of logs, spans, rows, metrics and response bodies', async (t) => {
    // The upstream provider misbehaves in every way that could carry the key back: it echoes the
    // Authorization header in 401/500 error bodies, in a header, and in a completion's text.
    let mode: 'unauthorized' | 'error' | 'echo' = 'unauthorized';
    const upstream = await startStubServer((req, res) => {
      const auth = String(req.headers.authorization ?? '');
      if (mode === 'unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json', 'x-echo': auth });
        res.end(
          JSON.stringify({
            error: {
              message: `Incorrect API key provided: ${auth}`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          }),
        );
      } else if (mode === 'error') {
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`upstream exploded while handling key ${auth.replace(/^Bearer /, '')}`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 1,
            model: 'leaky-model',
            choices: [
              {
                index: 0,
                finish_reason: 'stop',
                message: {
                  role: 'assistant',
                  content: `I saw your header ${auth} {"to":"a@b.c","subject":"s","body":"key ${auth}"}`,
                },
              },
            ],
            usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
          }),
        );
      }
    });
    const langfuse = await startOtlpReceiver();
    const otlp = await startOtlpReceiver();
    const stack = await startStack({
      env: {
        LOG_LEVEL: 'debug',
        LANGFUSE_PUBLIC_KEY: LANGFUSE_PUBLIC,
        LANGFUSE_SECRET_KEY: LANGFUSE_SECRET,
        LANGFUSE_BASE_URL: langfuse.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
      chatdEnv: {
        FAULTS_PROVIDER_KEY: PROVIDER_KEY,
        PROVIDERS: JSON.stringify([
          {
            name: 'leaky',
            type: 'openai',
            base_url: `${upstream.url}/v1`,
            api_key_env: 'FAULTS_PROVIDER_KEY',
            max_retries: 0,
          },
        ]),
      },
    });
    const bodies: string[] = [];
    try {
      const iterate = {
        ...(await fillRequest('leaky-model')),
        provider: 'leaky',
        kind: 'email',
        context: {},
      };
      const record = async (res: Promise<{ status: number; body: Record<string, unknown> }>) => {
        const r = await res;
        bodies.push(JSON.stringify(r.body));
        return r;
      };
      // Langfuse refuses the first exports (401), so export failures are logged too.
      langfuse.respondWith(401);
      for (const m of ['unauthorized', 'error', 'echo'] as const) {
        mode = m;
        const viaGateway = await record(
          postJson(`${stack.gateway.url}/v1/iterate`, { ...iterate, max_iterations: 1 }),
        );
        assert.ok([200, 422, 502].includes(viaGateway.status), `${m}: ${viaGateway.status}`);
        const direct = await record(
          postJson(`${stack.chatd.url}/v1/chat`, {
            provider: 'leaky',
            model: 'leaky-model',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        );
        assert.ok(
          m === 'echo' ? direct.status === 200 : direct.status === 502,
          `${m}: chatd ${direct.status}`,
        );
        if (m === 'unauthorized') langfuse.respondWith(200);
      }
      for (const path of ['/v1/providers', '/metrics', '/healthz', '/readyz', '/v1/nope']) {
        bodies.push(await (await fetch(`${stack.chatd.url}${path}`)).text());
        bodies.push(await (await fetch(`${stack.gateway.url}${path}`)).text());
      }
      const gatewayCode = await stack.gateway.stop();
      const chatdCode = await stack.chatd.stop();
      assert.equal(gatewayCode, 0);
      assert.equal(chatdCode, 0);

      // The echo mode is a completion that carries the key as text: it must be masked too.
      const { rows, text: rowText } = readSessionFile(stack.sessionLogPath);
      const spanBodies = [...langfuse.requests, ...otlp.requests].map((r) => r.body);
      const logLines = [...stack.gateway.lines, ...stack.chatd.lines];
      const found = [
        ...leaks('a log line', logLines),
        ...leaks('an exported span batch', spanBodies),
        ...leaks('the session log', [rowText]),
        ...leaks('an HTTP response body', bodies),
      ];
      const evidence = `${logLines.length} log lines, ${spanBodies.length} span batches (${langfuse.spans.length + otlp.spans.length} spans), ${rows.length} rows, ${bodies.length} bodies: ${found.length} leaks`;
      t.diagnostic(evidence);
      assert.ok(logLines.length > 10 && spanBodies.length > 0 && rows.length === 3, evidence);
      assert.ok(
        langfuse.requests.some((r) => r.headers.authorization === `Basic ${BASIC}`),
        'the stand-in did get the keys, in the auth header only',
      );
      assert.deepEqual(found, []);
      reportEvidence(t, {
        fault:
          'secrets: provider key echoed by the upstream (401/500/completion), Langfuse keys, LOG_LEVEL=debug',
        expectation: 'no key in any log line, span, row, metric or response body',
        evidence,
      });
    } finally {
      await stack.stop();
      await upstream.close();
      await langfuse.close();
      await otlp.close();
    }
  });
});
