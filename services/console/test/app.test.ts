import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConsoleApp } from '../src/app.js';
import { loopbackHosts } from '../src/config.js';
import { SessionStore } from '../src/session-store.js';
import { TraceFileSource } from '../src/trace-source.js';
import { exhaustedRecord, line, record, tempDir } from './helpers.js';

function get(port: number, target: string, options: { method?: string; host?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: target,
          method: options.method ?? 'GET',
          headers: { host: options.host ?? `127.0.0.1:${port}` },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

describe('the console over HTTP', () => {
  const t = tempDir();
  let server: http.Server;
  let store: SessionStore;
  let port = 0;

  before(async () => {
    writeFileSync(t.file, line(record(1)) + line(exhaustedRecord(2, 1)));
    store = await SessionStore.create({ path: t.file });
    const hosts = new Set<string>();
    server = http.createServer(
      createConsoleApp({
        store,
        traces: new TraceFileSource(path.join(t.dir, 'traces.jsonl')),
        get allowedHosts() {
          return hosts;
        },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    for (const host of loopbackHosts('127.0.0.1', port)) hosts.add(host);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    t.cleanup();
  });

  it('serves the overview with a strict content security policy and no inline script', async () => {
    const res = await get(port, '/');
    assert.equal(res.status, 200);
    assert.match(
      String(res.headers['content-security-policy']),
      /script-src 'self'; style-src 'self'/,
    );
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.body, /OK: no ungrounded accepted fills/);
    assert.doesNotMatch(res.body, /<script>|<script(?![^>]*\bsrc=)/);
    const chart = await get(port, '/assets/chart.umd.min.js');
    assert.equal(chart.status, 200);
    assert.match(chart.body, /Chart\.js v4\.6\.1/);
  });

  it('shows a row appended a moment ago on the next page load', async () => {
    appendFileSync(t.file, line(record(3, { model: 'appended-model' })));
    const res = await get(port, '/sessions?model=appended-model');
    assert.equal(res.status, 200);
    assert.match(res.body, new RegExp(record(3).sessionId));
    assert.match(res.body, /rows 1–1 of 1/);
  });

  it('answers a bad or unknown parameter with 400 naming it, escaped', async () => {
    const bad = await get(port, '/sessions?verdict=%3Cb%3E');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /verdict must be one of accepted, max_iter_exhausted, infra_error/);
    const unknown = await get(
      port,
      `/sessions?${encodeURIComponent('<img src=x onerror=alert(1)>')}=1`,
    );
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /unknown parameter &lt;img src=x onerror=alert\(1\)&gt;/);
    const json = await get(port, '/api/sessions?size=100000');
    assert.equal(json.status, 400);
    assert.deepEqual(JSON.parse(json.body), { error: 'size must be an integer from 1 to 200' });
  });

  it('answers a date that is no calendar instant with 400 naming the parameter, not a DuckDB 500', async () => {
    for (const [name, value] of [
      ['since', '2026-02-30'],
      ['since', '2026-01-01T24:00'],
      ['until', '2025-13-01'],
      ['until', '2026-01-01T10:00:00+24:00'],
    ] as const) {
      const res = await get(port, `/api/sessions?${name}=${encodeURIComponent(value)}`);
      assert.equal(res.status, 400, `${name}=${value}: ${res.body}`);
      assert.match(
        String((JSON.parse(res.body) as { error: string }).error),
        new RegExp(`^${name} `),
      );
    }
    assert.equal((await get(port, '/sessions?since=2026-11-25T06:00Z')).status, 200);
  });

  it('is read-only and answers only to loopback Host names', async () => {
    const before = readFileSync(t.file);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await get(port, '/sessions', { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers['allow'], 'GET, HEAD');
    }
    assert.equal((await get(port, '/', { host: `attacker.example:${port}` })).status, 403);
    assert.equal((await get(port, '/', { host: `localhost:${port}` })).status, 200);
    assert.equal((await get(port, '/', { method: 'HEAD' })).body, '');
    assert.deepEqual(readFileSync(t.file), before, 'the log is untouched');
  });

  it('shows one session with its attempts and the validator error, and says when there is no tree', async () => {
    const res = await get(port, `/sessions/${record(2).sessionId}`);
    assert.equal(res.status, 200);
    assert.match(res.body, /class="error-text validator-error">candidate_id W-920 not in roster</);
    assert.match(res.body, /no spans of this trace in the trace file/);
    const api = JSON.parse((await get(port, `/api/sessions/${record(2).sessionId}`)).body) as {
      rows: Array<{ detail: { prompt: string; attempts: Array<{ error: string }> } }>;
      rowsTotal: number;
    };
    assert.equal(api.rows[0]?.detail.prompt, record(2).prompt);
    assert.equal(api.rows[0]?.detail.attempts[0]?.error, 'candidate_id W-920 not in roster');
    assert.equal(api.rowsTotal, 1);
    assert.equal((await get(port, '/sessions/%E0%A4%A')).status, 400);
    assert.equal((await get(port, '/nothing-here')).status, 404);
  });
});
