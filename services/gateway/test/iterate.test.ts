import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTRACT } from './fixtures.js';
import { closedUrl, postJson, startStubChatd, userPrompt } from '@lakehouse/test-support';
import { encodeSessionRecord } from '@lakehouse/session-log';
import { startGateway } from './helpers.js';
import type { ChatCall, StubChatd, StubReply } from '@lakehouse/test-support';
import type { TestGateway } from './helpers.js';

const GOOD_FILL =
  '```json\n{"fills":[{"candidate_id":"W-1","name":"Maria Garcia"},{"candidate_id":"W-2","name":"James Smith"}]}\n```';
const PHANTOM_FILL =
  '{"fills":[{"candidate_id":"W-1","name":"Maria Garcia"},{"candidate_id":"W-999","name":"Ghost"}]}';

const FILL_REQUEST = {
  kind: 'fill',
  prompt: 'Staff two forklift operators in Chicago',
  provider: 'stub',
  model: 'm1',
  context: { ...CONTRACT },
};

const TRACE_ID = /^[0-9a-f]{32}$/;

// One stub chatd whose behaviour is picked per test by the model name.
const scripts: Record<string, (call: ChatCall, index: number) => StubReply> = {
  clean: () => GOOD_FILL,
  'phantom-once': (call) => (userPrompt(call).includes('not in roster') ? GOOD_FILL : PHANTOM_FILL),
  'phantom-always': () => PHANTOM_FILL,
  'prose-once': (call) =>
    userPrompt(call).includes("wasn't valid JSON")
      ? `Here it is: ${PHANTOM_FILL.replace('W-999', 'W-2')}`
      : 'I would pick Maria.',
  'server-error': () => ({ status: 500, body: { error: 'provider exploded' } }),
  'bad-gateway': () => ({ status: 502, body: { error: 'provider error' } }),
  'bytes-in-flight': () => ({ status: 503, body: { error: 'chatd holds its limit; retry later' } }),
  'unknown-provider': (call) => ({
    status: 404,
    body: { error: `unknown provider "${call.provider}"` },
  }),
  hang: () => 'hang',
  email: () => '{"to":"ops@example.com","subject":"Shift","body":"See you at 8."}',
  // Numbers a JS double cannot keep: the row must carry serde_json's bytes for them.
  'exact-numbers': () =>
    'Sure:\n```json\n{"to":"ops@example.com","subject":"Shift","body":"8am",' +
    '"meta":{"id":12345678901234567891,"ratio":1.0,"zero":-0,"big":1e21,"tiny":1e-7}}\n```',
  // Accepted by the validator (extra keys are free), but deeper than the session row allows.
  'too-deep': () =>
    '{"to":"ops@example.com","subject":"Shift","body":"8am","meta":' +
    '['.repeat(600) + ']'.repeat(600) + '}',
};

void describe('POST /v1/iterate', () => {
  let chatd: StubChatd;
  let gw: TestGateway;

  before(async () => {
    chatd = await startStubChatd((call, index) =>
      (scripts[call.model] ?? scripts['clean']!)(call, index),
    );
    gw = await startGateway({
      CHATD_URL: chatd.url,
      CHAT_TIMEOUT_MS: '300',
      BODY_LIMIT_BYTES: '4096',
    });
  });
  after(async () => {
    await gw.close();
    await chatd.close();
  });

  async function iterate(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const before = gw.sessionLog.records.length;
    const callsBefore = chatd.calls.length;
    const res = await postJson(`${gw.url}/v1/iterate`, body, headers);
    const emitted = gw.sessionLog.records.slice(before);
    return { ...res, emitted, calls: chatd.calls.slice(callsBefore) };
  }

  void it('accepts a correct fill on the first try', async () => {
    const res = await iterate({ ...FILL_REQUEST, model: 'clean', system: 'You staff shifts.' });
    assert.equal(res.status, 200);
    assert.match(res.traceHeader ?? '', TRACE_ID);
    assert.equal(res.body['trace_id'], res.traceHeader);
    assert.deepEqual(res.body['artifact'], {
      fills: [
        { candidate_id: 'W-1', name: 'Maria Garcia' },
        { candidate_id: 'W-2', name: 'James Smith' },
      ],
    });
    assert.deepEqual(res.body['validation'], { ok: true, warnings: [], grounded_in_roster: true });
    assert.equal(res.body['iterations'], 1);
    assert.deepEqual(res.body['history'], [{ iteration: 0, raw: GOOD_FILL, status: 'accepted' }]);

    const call = res.calls[0];
    assert.equal(res.calls.length, 1);
    assert.equal(call?.provider, 'stub');
    assert.equal(call?.temperature, 0.2);
    assert.equal(call?.max_tokens, 4096);
    assert.deepEqual(call?.messages[0], { role: 'system', content: 'You staff shifts.' });
    assert.equal(
      userPrompt(call),
      `${FILL_REQUEST.prompt}\n\nArtifact kind: fill\nContract: ${JSON.stringify(CONTRACT)}\n` +
        'Respond with exactly one JSON object: {"fills":[{"candidate_id":"W-<worker_id>","name":"<worker name>"}]}',
    );

    assert.equal(res.emitted.length, 1);
    const record = res.emitted[0]!;
    assert.equal(record.sessionId, res.body['trace_id']);
    assert.equal(record.kind, 'fill');
    assert.equal(record.model, 'clean');
    assert.equal(record.provider, 'stub');
    assert.equal(record.prompt, FILL_REQUEST.prompt);
    assert.equal(record.iterations, 1);
    assert.equal(record.maxIterations, 3);
    assert.equal(record.finalVerdict, 'accepted');
    // Tracing is off in this process: no span ids.
    assert.deepEqual(record.attempts, [{ iteration: 0, verdictKind: 'accepted' }]);
    assert.deepEqual(record.artifact, res.body['artifact']);
    assert.equal(record.groundedInRoster, true);
    assert.ok(Number.isInteger(record.durationMs) && record.durationMs >= 0);
  });

  void it('retries after a phantom and accepts the corrected fill', async () => {
    const res = await iterate({ ...FILL_REQUEST, model: 'phantom-once' });
    assert.equal(res.status, 200);
    assert.equal(res.body['iterations'], 2);
    const history = res.body['history'] as {
      iteration: number;
      status: string;
      error?: string;
      raw: string;
    }[];
    assert.equal(history.length, 2);
    assert.equal(history[0]?.status, 'validation_failed');
    assert.equal(history[0]?.raw, PHANTOM_FILL);
    assert.match(history[0]?.error ?? '', /candidate_id W-999 not in roster/);
    assert.equal(history[1]?.status, 'accepted');

    assert.equal(
      userPrompt(res.calls[1]),
      `${userPrompt(res.calls[0])}\n\nYour previous response was rejected: candidate_id W-999 not in roster. ` +
        'Fix every problem and respond with the corrected JSON object only.',
    );
    assert.equal(res.emitted.length, 1);
    assert.deepEqual(res.emitted[0]?.attempts, [
      { iteration: 0, verdictKind: 'validation_failed', error: 'candidate_id W-999 not in roster' },
      { iteration: 1, verdictKind: 'accepted' },
    ]);
    assert.equal(res.emitted[0]?.finalVerdict, 'accepted');
    assert.equal(res.emitted[0]?.groundedInRoster, true);
  });

  void it('answers 422 max_iter_exhausted when every attempt is a phantom', async () => {
    const res = await iterate({ ...FILL_REQUEST, model: 'phantom-always', max_iterations: 2 });
    assert.equal(res.status, 422);
    assert.equal(res.body['final_verdict'], 'max_iter_exhausted');
    assert.equal(res.body['iterations'], 2);
    assert.equal(res.body['trace_id'], res.traceHeader);
    assert.match(
      String(res.body['error']),
      /no acceptable fill artifact after 2 iterations: candidate_id W-999 not in roster/,
    );
    assert.deepEqual(
      (res.body['history'] as { status: string }[]).map((h) => h.status),
      ['validation_failed', 'validation_failed'],
    );
    assert.equal(res.calls.length, 2);
    assert.equal(res.emitted.length, 1);
    const record = res.emitted[0]!;
    assert.equal(record.finalVerdict, 'max_iter_exhausted');
    assert.equal(record.iterations, 2);
    assert.equal(record.maxIterations, 2);
    assert.equal(record.groundedInRoster, null);
    assert.equal('artifact' in record, false);
  });

  void it('retries a prose reply with the no-JSON feedback', async () => {
    const res = await iterate({ ...FILL_REQUEST, model: 'prose-once' });
    assert.equal(res.status, 200);
    const history = res.body['history'] as { status: string; error?: string }[];
    assert.equal(history[0]?.status, 'no_json');
    assert.equal(history[1]?.status, 'accepted');
    assert.ok(
      userPrompt(res.calls[1]).endsWith(
        "\n\nYour response wasn't valid JSON. Respond with exactly one JSON object.",
      ),
    );
    assert.deepEqual(
      res.emitted[0]?.attempts.map((a) => a.verdictKind),
      ['no_json', 'accepted'],
    );
  });

  void it('accepts an email artifact with grounded_in_roster null', async () => {
    const res = await iterate({
      kind: 'email',
      prompt: 'Remind the crew',
      provider: 'stub',
      model: 'email',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body['validation'], { ok: true, warnings: [], grounded_in_roster: null });
    assert.equal(res.emitted[0]?.groundedInRoster, null);
    assert.ok(userPrompt(res.calls[0]).includes('Artifact kind: email\nContract: {}\n'));
  });

  void it('keeps the artifact numbers exactly in the row (serde_json bytes, not JS doubles)', async () => {
    const res = await iterate({ kind: 'email', prompt: 'Remind', provider: 'stub', model: 'exact-numbers' });
    assert.equal(res.status, 200);
    const entry = res.emitted[0];
    assert.ok(entry !== undefined && entry.artifactJson !== undefined);
    const row = encodeSessionRecord({ ...entry, timestamp: 't', daemon: 'gateway' });
    assert.ok(
      row.includes('"meta":{"big":1e+21,"id":12345678901234567891,"ratio":1.0,"tiny":1e-7,"zero":-0.0}'),
      row,
    );
  });

  void it('refuses an artifact nested past 127 levels up front, and the session still leaves its row', async () => {
    const res = await iterate({ kind: 'email', prompt: 'Remind', provider: 'stub', model: 'too-deep', max_iterations: 2 });
    assert.equal(res.status, 422);
    assert.equal(res.emitted.length, 1);
    assert.deepEqual(
      res.emitted[0]?.attempts.map((a) => [a.verdictKind, a.error]),
      [
        ['no_json', 'the JSON object in the response nests deeper than 127 levels'],
        ['no_json', 'the JSON object in the response nests deeper than 127 levels'],
      ],
    );
  });

  for (const [model, pattern] of [
    ['server-error', /^chatd failed \(500\): provider exploded$/],
    ['bad-gateway', /^chatd failed \(502\): provider error$/],
    // chatd's upstream byte budget is full: the infra's failure, not the caller's 400.
    ['bytes-in-flight', /^chatd failed \(503\): chatd holds its limit; retry later$/],
    ['hang', /^chatd timed out after 300 ms$/],
  ] as const) {
    void it(`answers 502 infra_error when chatd ${model === 'hang' ? 'times out' : `answers ${model}`}`, async () => {
      const res = await iterate({ ...FILL_REQUEST, model });
      assert.equal(res.status, 502);
      assert.equal(res.body['final_verdict'], 'infra_error');
      assert.match(String(res.body['error']), pattern);
      assert.equal(res.body['iterations'], 1);
      assert.deepEqual(res.body['history'], [
        { iteration: 0, raw: null, status: 'infra_error', error: res.body['error'] },
      ]);
      assert.equal(res.body['trace_id'], res.traceHeader);
      assert.equal(res.emitted.length, 1);
      assert.equal(res.emitted[0]?.finalVerdict, 'infra_error');
      assert.deepEqual(res.emitted[0]?.attempts, [
        { iteration: 0, verdictKind: 'infra_error', error: res.body['error'] },
      ]);
      assert.equal(res.emitted[0]?.groundedInRoster, null);
    });
  }

  void it('answers 400 naming the provider when chatd does not know it, and still logs the session', async () => {
    const res = await iterate({ ...FILL_REQUEST, provider: 'nope', model: 'unknown-provider' });
    assert.equal(res.status, 400);
    assert.equal(res.body['field'], 'provider');
    assert.match(
      String(res.body['error']),
      /^provider "nope" rejected by chatd \(404\): unknown provider "nope"$/,
    );
    assert.equal('final_verdict' in res.body, false);
    assert.equal(res.body['trace_id'], res.traceHeader);
    assert.equal(res.emitted.length, 1);
    assert.equal(res.emitted[0]?.finalVerdict, 'infra_error');
  });

  void it('reuses a valid inbound X-Lakehouse-Trace-Id as the session id', async () => {
    const id = 'ABCDEF01-2345-6789-abcd-ef0123456789';
    const res = await iterate({ ...FILL_REQUEST, model: 'clean' }, { 'x-lakehouse-trace-id': id });
    assert.equal(res.traceHeader, 'abcdef0123456789abcdef0123456789');
    assert.equal(res.body['trace_id'], res.traceHeader);
    assert.equal(res.emitted[0]?.sessionId, res.traceHeader);
  });

  void it('ignores an invalid inbound trace header and never echoes it', async () => {
    const res = await iterate(
      { ...FILL_REQUEST, model: 'clean' },
      { 'x-lakehouse-trace-id': '0'.repeat(32) },
    );
    assert.match(res.traceHeader ?? '', TRACE_ID);
    assert.notEqual(res.traceHeader, '0'.repeat(32));
  });

  void describe('bad requests (400, no session)', () => {
    const cases: [string, unknown, RegExp, string][] = [
      ['invalid JSON', '{"kind":', /not valid JSON/, 'body'],
      ['a non-object body', '[1,2]', /must be a JSON object/, 'body'],
      ['a missing kind', { ...FILL_REQUEST, kind: undefined }, /kind is required/, 'kind'],
      [
        'an unknown kind',
        { ...FILL_REQUEST, kind: 'poem' },
        /kind must be one of fill, email, playbook/,
        'kind',
      ],
      ['a missing prompt', { ...FILL_REQUEST, prompt: undefined }, /prompt/, 'prompt'],
      ['a numeric prompt', { ...FILL_REQUEST, prompt: 42 }, /prompt/, 'prompt'],
      ['a non-string system', { ...FILL_REQUEST, system: ['x'] }, /system/, 'system'],
      ['a missing provider', { ...FILL_REQUEST, provider: undefined }, /provider/, 'provider'],
      ['a non-string model', { ...FILL_REQUEST, model: 7 }, /model/, 'model'],
      [
        'a non-object context',
        { ...FILL_REQUEST, context: 'Chicago' },
        /context must be a JSON object/,
        'context',
      ],
      [
        'an ill-typed target_count',
        { ...FILL_REQUEST, context: { target_count: '2' } },
        /context.target_count/,
        'context.target_count',
      ],
      [
        'max_iterations 0',
        { ...FILL_REQUEST, max_iterations: 0 },
        /max_iterations must be an integer from 1 to 10/,
        'max_iterations',
      ],
      [
        'max_iterations 11',
        { ...FILL_REQUEST, max_iterations: 11 },
        /max_iterations/,
        'max_iterations',
      ],
      [
        'max_iterations 2.5',
        { ...FILL_REQUEST, max_iterations: 2.5 },
        /max_iterations/,
        'max_iterations',
      ],
      [
        'temperature 3',
        { ...FILL_REQUEST, temperature: 3 },
        /temperature must be a number from 0 to 2/,
        'temperature',
      ],
      ['temperature "hot"', { ...FILL_REQUEST, temperature: 'hot' }, /temperature/, 'temperature'],
      [
        'max_tokens 0',
        { ...FILL_REQUEST, max_tokens: 0 },
        /max_tokens must be a positive integer/,
        'max_tokens',
      ],
    ];
    for (const [name, body, pattern, field] of cases) {
      void it(`rejects ${name}`, async () => {
        const res = await iterate(body as Record<string, unknown>);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(String(res.body['error']), pattern);
        assert.equal(res.body['field'], field);
        assert.match(res.traceHeader ?? '', TRACE_ID);
        assert.equal(res.body['trace_id'], res.traceHeader);
        assert.equal(res.emitted.length, 0);
        assert.equal(res.calls.length, 0);
      });
    }

    void it('rejects a body over BODY_LIMIT_BYTES with 413', async () => {
      const res = await iterate({ ...FILL_REQUEST, prompt: 'x'.repeat(5000) });
      assert.equal(res.status, 413);
      assert.match(String(res.body['error']), /exceeds 4096 bytes/);
      assert.match(res.traceHeader ?? '', TRACE_ID);
      assert.equal(res.emitted.length, 0);
    });
  });
});

void describe('POST /v1/iterate infrastructure failures', () => {
  void it('answers 502 infra_error when chatd is down', async () => {
    const gw = await startGateway({ CHATD_URL: await closedUrl() });
    try {
      const res = await postJson(`${gw.url}/v1/iterate`, FILL_REQUEST);
      assert.equal(res.status, 502);
      assert.equal(res.body['final_verdict'], 'infra_error');
      assert.match(String(res.body['error']), /^chatd unreachable: ECONNREFUSED$/);
      assert.equal(res.body['trace_id'], res.traceHeader);
      assert.equal(gw.sessionLog.records.length, 1);
      assert.equal(gw.sessionLog.records[0]?.finalVerdict, 'infra_error');
      assert.equal(gw.sessionLog.records[0]?.iterations, 1);
    } finally {
      await gw.close();
    }
  });

  void it('answers 502 infra_error when the validate hop fails', async () => {
    const chatd = await startStubChatd(() => GOOD_FILL);
    const gw = await startGateway({ CHATD_URL: chatd.url, GATEWAY_SELF_URL: await closedUrl() });
    try {
      const res = await postJson(`${gw.url}/v1/iterate`, FILL_REQUEST);
      assert.equal(res.status, 502);
      assert.equal(res.body['final_verdict'], 'infra_error');
      assert.match(String(res.body['error']), /^validate hop unreachable: ECONNREFUSED$/);
      const history = res.body['history'] as { raw: string | null; status: string }[];
      // The model did answer; the raw reply is kept even though validation could not run.
      assert.equal(history[0]?.raw, GOOD_FILL);
      assert.equal(history[0]?.status, 'infra_error');
      assert.equal(gw.sessionLog.records.length, 1);
      assert.equal(gw.sessionLog.records[0]?.finalVerdict, 'infra_error');
    } finally {
      await gw.close();
      await chatd.close();
    }
  });
});
