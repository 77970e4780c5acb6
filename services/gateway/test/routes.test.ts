import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkerLookup } from '@lakehouse/roster';
import { CONTRACT } from './fixtures.js';
import { closedUrl, postJson, startStubChatd } from '@lakehouse/test-support';
import { startGateway } from './helpers.js';
import type { StubChatd } from '@lakehouse/test-support';
import type { TestGateway } from './helpers.js';

void describe('POST /v1/validate', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ CHATD_URL: await closedUrl() });
  });
  after(() => gw.close());

  void it('answers 200 with warnings and grounded_in_roster for a valid fill', async () => {
    const res = await postJson(`${gw.url}/v1/validate`, {
      kind: 'fill',
      artifact: { fills: [{ candidate_id: 'W-1', name: 'Mary' }, { candidate_id: 'W-2' }] },
      context: CONTRACT,
    });
    assert.equal(res.status, 200);
    assert.match(res.traceHeader ?? '', /^[0-9a-f]{32}$/);
    assert.deepEqual(res.body, {
      ok: true,
      warnings: [
        {
          category: 'consistency',
          message: 'fills[0].name "Mary" differs from roster name "Maria Garcia" for W-1',
          field: 'fills[0].name',
        },
      ],
      grounded_in_roster: true,
    });
  });

  void it('answers 422 with errors for a phantom', async () => {
    const res = await postJson(`${gw.url}/v1/validate`, {
      kind: 'fill',
      artifact: { fills: [{ candidate_id: 'W-1' }, { candidate_id: 'W-404' }] },
      context: CONTRACT,
    });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, {
      ok: false,
      errors: [
        {
          category: 'consistency',
          message: 'candidate_id W-404 not in roster',
          field: 'fills[1].candidate_id',
        },
      ],
      warnings: [],
    });
  });

  void it('validates email and playbook structure with grounded_in_roster null', async () => {
    const email = await postJson(`${gw.url}/v1/validate`, {
      kind: 'email',
      artifact: { to: 'a@b.c', subject: 's', body: 'b' },
    });
    assert.deepEqual(email.body, { ok: true, warnings: [], grounded_in_roster: null });
    const playbook = await postJson(`${gw.url}/v1/validate`, {
      kind: 'playbook',
      artifact: { title: 'T', steps: [] },
    });
    assert.equal(playbook.status, 422);
  });

  void it('answers 400 for a bad kind, a missing artifact, bad context or bad JSON', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'poem', artifact: {} }, 'kind'],
      [{ artifact: {} }, 'kind'],
      [{ kind: 'fill' }, 'artifact'],
      [{ kind: 'fill', artifact: {}, context: [] }, 'context'],
      [{ kind: 'fill', artifact: {}, context: { city: 1 } }, 'context.city'],
      ['not json', 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await postJson(`${gw.url}/v1/validate`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body['field'], field);
      assert.equal(typeof res.body['error'], 'string');
    }
  });

  void it('answers 404 with a JSON body for unknown routes', async () => {
    const res = await postJson(`${gw.url}/v2/iterate`, {});
    assert.equal(res.status, 404);
    assert.match(String(res.body['error']), /no route POST \/v2\/iterate/);
  });
});

void describe('error boundary', () => {
  void it('answers 500 with a generic body when a handler throws', async () => {
    const broken = {
      ready: true,
      get(): never {
        throw new Error('secret internal detail');
      },
    };
    const gw = await startGateway({}, { roster: broken });
    try {
      const res = await postJson(`${gw.url}/v1/validate`, {
        kind: 'fill',
        artifact: { fills: [{ candidate_id: 'W-1' }] },
      });
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: 'internal error', trace_id: res.traceHeader });
    } finally {
      await gw.close();
    }
  });
});

void describe('health probes', () => {
  let chatd: StubChatd;
  before(async () => {
    chatd = await startStubChatd(() => '{}');
  });
  after(() => chatd.close());

  void it('GET /healthz is 200', async () => {
    const gw = await startGateway({ CHATD_URL: await closedUrl() });
    try {
      const res = await fetch(`${gw.url}/healthz`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('x-lakehouse-trace-id') ?? '', /^[0-9a-f]{32}$/);
    } finally {
      await gw.close();
    }
  });

  void it('GET /readyz is 200 with a loaded roster and a healthy chatd', async () => {
    const gw = await startGateway({ CHATD_URL: chatd.url });
    try {
      const res = await fetch(`${gw.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready' });
    } finally {
      await gw.close();
    }
  });

  void it('GET /readyz is 503 with reasons when the roster is missing or chatd is down', async () => {
    const missing = await WorkerLookup.load('/nonexistent/roster.parquet', {
      logger: { warn() {} },
    });
    const gw = await startGateway({ CHATD_URL: await closedUrl() }, { roster: missing });
    try {
      const res = await fetch(`${gw.url}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { status: string; reasons: string[] };
      assert.equal(body.status, 'not ready');
      assert.equal(body.reasons.length, 2);
      assert.match(body.reasons[0] ?? '', /^roster not loaded: roster file not found/);
      assert.match(body.reasons[1] ?? '', /^chatd unreachable: .*ECONNREFUSED/);
      // Paths and internal URLs are the operator's (the log's), never an anonymous client's.
      assert.doesNotMatch(JSON.stringify(body), /nonexistent|127\.0\.0\.1|http:/);
    } finally {
      await gw.close();
    }
  });

  void it('GET /metrics answers in Prometheus text format (a comment while telemetry is not started)', async () => {
    const gw = await startGateway({ CHATD_URL: chatd.url });
    try {
      const res = await fetch(`${gw.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(await res.text(), /^# metrics disabled/);
    } finally {
      await gw.close();
    }
  });
});
