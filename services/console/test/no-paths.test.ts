// Issue #12 §8: nothing the console answers names a file by its absolute path; only the log and
// the start-up banner do. The temp dir's name stands for "any part of the path but the base name".
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createConsoleApp } from '../src/app.js';
import { SessionStore } from '../src/session-store.js';
import { TraceFileSource } from '../src/trace-source.js';
import { exhaustedRecord, line, record, tempDir } from './helpers.js';

async function bodies(
  logPath: string,
  tracesPath: string,
  targets: readonly string[],
): Promise<Map<string, { status: number; body: string }>> {
  const warnings: string[] = [];
  const store = await SessionStore.create({
    path: logPath,
    logger: { warn: (m) => warnings.push(m) },
  });
  const server = http.createServer(
    createConsoleApp({ store, traces: new TraceFileSource(tracesPath) }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const out = new Map<string, { status: number; body: string }>();
    for (const target of targets) {
      const res = await fetch(`http://127.0.0.1:${port}${target}`);
      out.set(target, { status: res.status, body: await res.text() });
    }
    out.set('(console log)', { status: 0, body: warnings.join('\n') });
    return out;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  }
}

describe('what the console shows of its files', () => {
  it('answers base names only: no absolute path in /healthz, the API, the pages or an error page', async () => {
    const t = tempDir();
    try {
      writeFileSync(t.file, line(record(1)) + line(exhaustedRecord(2, 1)));
      // A directory where the trace file should be: the lookup fails with a message naming it.
      const traces = path.join(t.dir, 'traces.jsonl');
      mkdirSync(traces);
      const id = record(2).sessionId;
      // /healthz does not refresh the store: the API is asked first so the log has been read.
      const got = await bodies(t.file, traces, [
        '/api/sessions',
        '/healthz',
        `/api/sessions/${id}`,
        `/sessions/${id}`,
        '/',
        '/no-such-page',
        '/api/no-such-page',
      ]);
      for (const [target, res] of got) {
        if (target === '(console log)') continue;
        assert.ok(!res.body.includes(t.dir), `${target} shows ${t.dir}: ${res.body.slice(0, 300)}`);
      }
      const health = JSON.parse(got.get('/healthz')?.body ?? '{}') as { log?: { file?: string } };
      assert.equal(health.log?.file, 'sessions.jsonl');
      const view = JSON.parse(got.get(`/api/sessions/${id}`)?.body ?? '{}') as {
        trace?: { source?: string; note?: string };
      };
      assert.equal(view.trace?.source, 'traces.jsonl');
      assert.match(
        view.trace?.note ?? '',
        /cannot read the trace file: traces\.jsonl is not a regular file/,
      );
      assert.match(
        got.get(`/sessions/${id}`)?.body ?? '',
        /session log <code>sessions\.jsonl<\/code>/,
      );
      assert.equal(got.get('/no-such-page')?.status, 404);
    } finally {
      t.cleanup();
    }
  });

  it('keeps the path out of a failed log’s error, and puts it in the console log instead', async () => {
    const t = tempDir();
    try {
      mkdirSync(t.file); // the session log is a directory: the store's state is `error`
      const got = await bodies(t.file, path.join(t.dir, 'traces.jsonl'), [
        '/api/sessions',
        '/sessions',
        '/healthz',
      ]);
      const health = JSON.parse(got.get('/healthz')?.body ?? '{}') as {
        log?: { state?: string; error?: string };
      };
      assert.equal(health.log?.state, 'error');
      assert.match(health.log?.error ?? '', /^sessions\.jsonl is not a regular file/);
      for (const target of ['/healthz', '/api/sessions', '/sessions'])
        assert.ok(!(got.get(target)?.body ?? '').includes(t.dir), `${target} shows ${t.dir}`);
      assert.ok((got.get('(console log)')?.body ?? '').includes(t.file), 'the log names the path');
    } finally {
      t.cleanup();
    }
  });
});
