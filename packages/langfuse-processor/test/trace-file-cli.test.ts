import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '@lakehouse/test-support';
import { buildLangfuseTrees, createLangfuseSpanProcessor } from '../src/index.js';
import { chatdHandle, isTrustedTestParent, runSession, Service } from './harness.js';
import { traceCli } from './trace-cli-runner.js';

void describe('offline trace file and the trace CLI', () => {
  let dir = '';
  let file = '';
  let sessionId = '';
  let chatId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lf-trace-'));
    file = join(dir, 'nested', 'traces.jsonl');
    // Two processes' processors append to the same file, as gateway and chatd do under `npm start`.
    const gwProcessor = createLangfuseSpanProcessor({
      env: { LANGFUSE_TRACE_FILE: file },
      scheduledDelayMillis: 5,
      isTrustedRemoteParent: isTrustedTestParent,
    });
    const chatdProcessor = createLangfuseSpanProcessor({
      env: { LANGFUSE_TRACE_FILE: file },
      scheduledDelayMillis: 5,
      isTrustedRemoteParent: isTrustedTestParent,
    });
    assert.ok(gwProcessor && chatdProcessor);
    assert.equal(gwProcessor.destination.kind, 'file');
    const gateway = new Service('gateway', gwProcessor);
    const chatd = new Service('chatd', chatdProcessor);
    sessionId = runSession(gateway, chatd, {
      attempts: [{ verdict: 'validation_failed' }, { verdict: 'accepted' }],
    });
    // --last picks the trace that started most recently: the direct chat call must start after
    // the session. Its spans reaching the file (a batch later) is the event that guarantees it.
    await eventually(
      () => (existsSync(file) && readFileSync(file, 'utf8').includes(sessionId) ? true : undefined),
      10_000,
      'the session in the trace file',
    );
    chatdHandle(chatd, {}, 'clean', 'hello');
    await Promise.all([gateway.provider.shutdown(), chatd.provider.shutdown()]);
    const trees = buildLangfuseTrees(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    );
    chatId = trees.find((t) => t.name === 'chat:clean')?.traceId ?? '';
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('writes one OTLP/JSON ExportTraceServiceRequest per line', () => {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(lines.length >= 2);
    for (const line of lines) {
      const req = JSON.parse(line) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }>;
      };
      assert.ok(Array.isArray(req.resourceSpans) && req.resourceSpans.length > 0);
    }
    const trees = buildLangfuseTrees(lines.map((l) => JSON.parse(l) as unknown));
    const session = trees.find((t) => t.traceId === sessionId);
    assert.equal(session?.roots.length, 1);
    assert.deepEqual(session?.dangling, []);
    assert.equal(session?.observations.length, 1 + 2 + 2 + 2);
  });

  void it('renders a session as one tree', () => {
    const r = traceCli(sessionId, '--file', file);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      new RegExp(`^trace ${sessionId} {2}iterate:fill {2}accepted {2}(?:<1|\\d+) ms$`),
    );
    assert.match(
      lines[1] ?? '',
      /^├─ attempt 0 +span +WARNING +(?:<1|\d+) ms +"candidate_id W-999 not in roster"$/,
    );
    // Each service anchors its span clock to Date.now() (ms), so the order of an attempt's two
    // children (chatd's generation, the gateway's guardrail) can flip within a millisecond.
    const children = (a: number, b: number) =>
      [lines[a] ?? '', lines[b] ?? ''].map((l) => l.replace(/[├└]─/, '─')).sort();
    const [chat0, validate0] = children(2, 3);
    assert.match(
      chat0 ?? '',
      /^│ {2}─ chat phantom-once +generation +DEFAULT +(?:<1|\d+) ms +model=phantom-once tokens 120→45$/,
    );
    assert.match(validate0 ?? '', /^│ {2}─ validate fill +guardrail +WARNING +(?:<1|\d+) ms$/);
    assert.match(lines[4] ?? '', /^└─ attempt 1 +span +DEFAULT +(?:<1|\d+) ms$/);
    const [chat1, validate1] = children(5, 6);
    assert.match(chat1 ?? '', /^ {3}─ chat phantom-once +generation +DEFAULT/);
    assert.match(validate1 ?? '', /^ {3}─ validate fill +guardrail +DEFAULT/);
    assert.equal(lines.length, 7, 'no dangling-parent warning');
  });

  void it('shows the latest trace with --last and lists traces with --list', () => {
    const last = traceCli('--last', '--file', file);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, new RegExp(`^trace ${chatId}  chat:clean`));
    const list = traceCli('--list', `--file=${file}`);
    assert.equal(list.code, 0);
    assert.match(list.stdout, new RegExp(`${sessionId} .* iterate:fill  accepted  7 obs`));
  });

  void it('exits 1 with a clear message for an unknown trace id or a missing file', () => {
    const unknown = traceCli('0123456789abcdef0123456789abcdef', '--file', file);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /trace 0123456789abcdef0123456789abcdef not found in .*traces\.jsonl \(try --list\)/,
    );
    const missing = traceCli('--last', '--file', join(dir, 'nope.jsonl'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /trace file .*nope\.jsonl not found/);
  });
});
