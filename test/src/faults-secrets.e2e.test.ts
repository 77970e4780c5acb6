// Secrets never leave, content capture off means off (issue #12, invariant 4), on the real
// services: credentials in a provider base_url, keys an upstream echoes as its model name, and
// model output and contract values with CONTENT_CAPTURE=false.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fillRequest, postJson, sharedRoster, startService, startStack } from './harness.js';
import { readSessionFile, reportEvidence } from './faults-helpers.js';
import {
  openAiCompletion,
  secretShapes,
  sendJson,
  startOtlpReceiver,
  startStubServer,
} from '@lakehouse/test-support';

/** An OpenAI-compatible stand-in answering every completion with `reply()`. */
function startUpstream(reply: () => { model: string; content: string }) {
  return startStubServer((_req, res) => {
    const { model, content } = reply();
    sendJson(res, 200, openAiCompletion(model, content));
  });
}

/** Both services exporting to `otlp` (raw) and `langfuse`, chatd with the provider `up`. */
function startExportingStack(
  upstreamUrl: string,
  otlpUrl: string,
  langfuseUrl: string,
  env: Record<string, string>,
) {
  return startStack({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      LANGFUSE_BASE_URL: langfuseUrl,
      ...LANGFUSE,
      ...env,
    },
    chatdEnv: {
      PROVIDERS: JSON.stringify([
        { name: 'up', type: 'openai', base_url: `${upstreamUrl}/v1`, max_retries: 0 },
      ]),
    },
  });
}

const LANGFUSE = { LANGFUSE_PUBLIC_KEY: 'pk-lf-secrets', LANGFUSE_SECRET_KEY: 'sk-lf-secrets' };
// One session through the gateway and one chat request straight to chatd, both to the upstream.
const ITERATE_VIA_UP = {
  kind: 'email',
  prompt: 'write',
  provider: 'up',
  model: 'gpt-test',
  max_iterations: 1,
};
const CHAT_VIA_UP = {
  provider: 'up',
  model: 'gpt-test',
  messages: [{ role: 'user', content: 'hi' }],
};

describe('faults: secrets and content capture', () => {
  it('credentials in a provider base_url stop chatd at start-up, naming the field, never the value', async (t) => {
    const secret = `hunter${randomBytes(6).toString('hex')}`;
    const outputs: string[] = [];
    const bases = [
      `https://user:${secret}@api.example.com/v1`,
      `https://api.example.com/v1?api_key=${secret}`,
      // Spellings a list of credential names misses: only an allow-list refuses them all.
      `http://127.0.0.1:1/v1#api_key=${secret}`,
      `https://api.example.com/v1?api_key%20=${secret}`,
      `https://api.example.com/v1?api_key[]=${secret}`,
      `http://127.0.0.1:1/?apikey.=${secret}`,
      `https://api.example.com/sk-proj-${secret}abcdefghijklmnop/v1`,
    ];
    for (const base of bases) {
      const started = startService('chatd', {
        ROSTER_PATH: await sharedRoster(),
        PROVIDERS: JSON.stringify([{ name: 'p', type: 'openai', base_url: base }]),
      });
      const error = await started.then(
        async (s) => {
          await s.stop();
          return new Error('chatd started');
        },
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      outputs.push(error.message);
      assert.match(
        error.message,
        /exited with code 2[\s\S]*PROVIDERS\[0\]\.base_url: must not carry credentials/,
      );
      assert.ok(!error.message.includes(secret), error.message);
    }
    reportEvidence(t, {
      fault:
        'secrets: PROVIDERS base_url with user:password@, ?api_key=, #api_key=, ?api_key%20=, ?api_key[]=, ?apikey.=, a key in the path',
      expectation: 'chatd exits 2 naming PROVIDERS[0].base_url; the secret in no output',
      evidence: `exit 2 ×${outputs.length}; "${/PROVIDERS\[0\][^\n]*/.exec(outputs[0] ?? '')?.[0].slice(0, 90)}…"`,
    });
  });

  it('keys an upstream echoes as its model name never reach answers, labels, spans or logs', async (t) => {
    let current = { model: 'm', content: 'hi' };
    const upstream = await startUpstream(() => current);
    const otlp = await startOtlpReceiver();
    const langfuse = await startOtlpReceiver();
    const stack = await startExportingStack(upstream.url, otlp.url, langfuse.url, {
      LOG_LEVEL: 'debug',
    });
    const secrets: string[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(
          secretShapes,
          fc.constantFrom('', 'model ', 'org/'),
          async ({ secret }, prefix) => {
            secrets.push(secret);
            current = {
              model: `${prefix}${secret}`,
              content: `{"to":"a@b.c","subject":"s","body":"${secret}"}`,
            };
            const direct = await postJson(`${stack.chatd.url}/v1/chat`, CHAT_VIA_UP);
            assert.equal(direct.status, 200);
            assert.ok(!String(direct.body.model).includes(secret), String(direct.body.model));
            const viaGateway = await postJson(`${stack.gateway.url}/v1/iterate`, ITERATE_VIA_UP);
            assert.equal(viaGateway.status, 200);
            const metrics = await (await fetch(`${stack.chatd.url}/metrics`)).text();
            assert.ok(!metrics.includes(secret), 'the key in /metrics');
          },
        ),
        { numRuns: 15 },
      );
      await stack.gateway.stop();
      await stack.chatd.stop();
      const exported = [...otlp.requests, ...langfuse.requests].map((r) => r.body);
      const logs = [...stack.gateway.lines, ...stack.chatd.lines];
      const leaks = secrets.filter(
        (s) => exported.some((b) => b.includes(s)) || logs.some((l) => l.includes(s)),
      );
      assert.ok(exported.length > 0 && logs.length > 0);
      assert.deepEqual(leaks, []);
      reportEvidence(t, {
        fault:
          'secrets: the upstream answers with a key (15 generated shapes) as completion.model and in the text',
        expectation:
          "masked before it becomes the answer's model, a label, a span attribute or a log field",
        evidence: `${secrets.length} keys; ${exported.length} span batches, ${logs.length} log lines, 15 scrapes: ${leaks.length} leaks`,
      });
    } finally {
      await stack.stop();
      await upstream.close();
      await otlp.close();
      await langfuse.close();
    }
  });

  for (const capture of ['true', 'false'] as const) {
    it(`keys an upstream echoes in its error texts reach no row, log line, answer or span (CONTENT_CAPTURE=${capture})`, async (t) => {
      let echoed = '';
      const upstream = await startStubServer((_req, res) =>
        sendJson(res, 500, { error: { message: `upstream trace: token ${echoed} used` } }),
      );
      const otlp = await startOtlpReceiver();
      const langfuse = await startOtlpReceiver();
      const stack = await startExportingStack(upstream.url, otlp.url, langfuse.url, {
        LOG_LEVEL: 'info',
        CONTENT_CAPTURE: capture,
      });
      const secrets: string[] = [];
      const bodies: string[] = [];
      try {
        await fc.assert(
          fc.asyncProperty(secretShapes, async ({ secret }) => {
            secrets.push(secret);
            echoed = secret;
            const viaGateway = await postJson(`${stack.gateway.url}/v1/iterate`, ITERATE_VIA_UP);
            assert.equal(viaGateway.status, 502, viaGateway.text.slice(0, 200));
            const direct = await postJson(`${stack.chatd.url}/v1/chat`, CHAT_VIA_UP);
            assert.equal(direct.status, 502, direct.text.slice(0, 200));
            bodies.push(viaGateway.text, direct.text);
          }),
          { numRuns: 8 },
        );
        await stack.gateway.stop();
        await stack.chatd.stop();
        const places: Record<string, string[]> = {
          rows: readSessionFile(stack.sessionLogPath).text.split('\n').filter(Boolean),
          'log lines': [...stack.gateway.lines, ...stack.chatd.lines],
          answers: bodies,
          'span batches': [...otlp.requests, ...langfuse.requests].map((r) => r.body),
        };
        const leaks = Object.entries(places).flatMap(([where, texts]) =>
          secrets.filter((k) => texts.some((x) => x.includes(k))).map((k) => `${where}: ${k}`),
        );
        assert.ok(
          places['rows']!.some((l) => l.includes('returned HTTP 500')),
          'the rows carry the error',
        );
        assert.deepEqual(leaks, []);
        reportEvidence(t, {
          fault: `secrets: the upstream answers 500 quoting a key (8 generated shapes), CONTENT_CAPTURE=${capture}`,
          expectation:
            'masked where the error is made: no row, log line, answer body or span holds it',
          evidence: `${secrets.length} keys; ${Object.entries(places)
            .map(([w, x]) => `${x.length} ${w}`)
            .join(', ')}: ${leaks.length} leaks`,
        });
      } finally {
        await stack.stop();
        await upstream.close();
        await otlp.close();
        await langfuse.close();
      }
    });
  }

  it('CONTENT_CAPTURE=false keeps model output and contract values out of every exported field', async (t) => {
    const phantom = `W-Zq${randomBytes(5).toString('hex')}`;
    const city = `Cityzq${randomBytes(5).toString('hex')}`;
    const upstream = await startUpstream(() => ({
      model: 'gpt-test',
      content: `Here: {"fills":[{"candidate_id":"${phantom}","name":"Nobody"},{"candidate_id":"W-1","name":"X"}]}`,
    }));
    const otlp = await startOtlpReceiver();
    const langfuse = await startOtlpReceiver();
    const stack = await startExportingStack(upstream.url, otlp.url, langfuse.url, {
      CONTENT_CAPTURE: 'false',
    });
    try {
      const request = await fillRequest('gpt-test', { provider: 'up', max_iterations: 2 });
      const context = { ...(request['context'] as Record<string, unknown>), city };
      const res = await postJson(`${stack.gateway.url}/v1/iterate`, { ...request, context });
      assert.equal(res.status, 422);
      // Precondition: the markers did travel (the answer and the row may carry them).
      assert.ok(JSON.stringify(res.body).includes(phantom), 'the phantom id reached the validator');
      await stack.gateway.stop();
      await stack.chatd.stop();
      const bodies = [...otlp.requests, ...langfuse.requests].map((r) => r.body);
      const spans = otlp.spans.length + langfuse.spans.length;
      assert.ok(spans > 5, `${spans} spans exported`);
      const found = [phantom, city].filter((m) => bodies.some((b) => b.includes(m)));
      assert.deepEqual(found, [], 'a marker in an exported span');
      const statuses = langfuse.spans
        .map((s) => s.attributes['langfuse.observation.status_message'])
        .filter((m): m is string => typeof m === 'string');
      assert.ok(
        statuses.some((m) => /validation failed: \d+ consistency/.test(m)),
        statuses.join(' | '),
      );
      reportEvidence(t, {
        fault:
          'content capture off: a model reply naming a unique phantom id, a contract with a unique city',
        expectation:
          'neither in any exported span (attributes, status, validator report), Langfuse or OTLP',
        evidence: `${spans} spans in ${bodies.length} batches: 0 markers; attempt status "${statuses[0] ?? ''}"`,
      });
    } finally {
      await stack.stop();
      await upstream.close();
      await otlp.close();
      await langfuse.close();
    }
  });
});
