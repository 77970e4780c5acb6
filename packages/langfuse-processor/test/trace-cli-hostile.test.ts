import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildLangfuseTrees, renderTraceTree } from '../src/index.js';
import { TRACE_CLI, traceCli } from './trace-cli-runner.js';

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

// One OTLP/JSON export request line: a root span and `children` spans of one trace.
function exportLine(
  traceId: string,
  names: { root: string; child: string; status: string; model: string },
  children = 1,
): string {
  const start = 1_767_225_600_000_000_000n;
  const span = (id: string, parent: string | undefined, name: string, extra: object[]) => ({
    traceId,
    spanId: id,
    ...(parent !== undefined ? { parentSpanId: parent } : {}),
    name,
    startTimeUnixNano: String(start + BigInt(parseInt(id.slice(-4), 16)) * 1000n),
    endTimeUnixNano: String(start + 5_000_000n),
    attributes: extra,
    status: {},
  });
  const spans = [
    span('00000000000000a0', undefined, names.root, [str('langfuse.trace.name', names.root)]),
  ];
  for (let i = 1; i <= children; i++) {
    spans.push(
      span(`00000000000000${(0xa0 + i).toString(16)}`, '00000000000000a0', names.child, [
        str('langfuse.observation.type', 'generation'),
        str('langfuse.observation.model.name', names.model),
        str('langfuse.observation.level', 'WARNING'),
        str('langfuse.observation.status_message', names.status),
      ]),
    );
  }
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'gateway')] },
        scopeSpans: [{ scope: { name: 'x' }, spans }],
      },
    ],
  });
}

// Terminal-acting characters that must never reach stdout raw (newlines between lines are fine).
const RAW_CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const EVIL = '\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u009b31m\u202eexe.txt';

describe('npm run trace on hostile trace files', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-hostile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders any span strings with terminal escapes neutralised (generated)', () => {
    const hostile = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (root, child, status, model) => {
        const line = exportLine('0123456789abcdef0123456789abcdef', { root, child, status, model });
        const [tree] = buildLangfuseTrees([JSON.parse(line)]);
        assert.ok(tree !== undefined);
        const text = renderTraceTree(tree);
        assert.doesNotMatch(text, RAW_CONTROL);
      }),
      { numRuns: 200 },
    );
  });

  it('prints OSC 52, CSI, C1 and bidi characters as visible escapes in every mode', () => {
    const file = join(dir, 'evil.jsonl');
    const id = 'fedcba9876543210fedcba9876543210';
    writeFileSync(
      file,
      exportLine(id, { root: EVIL, child: EVIL, status: EVIL, model: EVIL }) + '\n',
    );
    for (const args of [['--last'], [id], ['--list']]) {
      const out = traceCli(...args, '--file', file);
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stdout, RAW_CONTROL, args.join(' '));
      assert.match(
        out.stdout,
        /\\x1b\]52;c;ZXZpbA==\\x07\\x1b\[2J\\x9b31m\\u202eexe\.txt/,
        args.join(' '),
      );
    }
  });

  it('answers a directory, a FIFO, and a line too long to hold with one clear message each', async () => {
    mkdirSync(join(dir, 'adir'));
    const directory = traceCli('--last', '--file', join(dir, 'adir'));
    assert.equal(directory.code, 1);
    assert.match(directory.stderr, /is a directory, not a trace file/);
    const fifo = join(dir, 'traces.fifo');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = traceCli('--list', '--file', fifo);
    assert.equal(fromFifo.code, 1);
    assert.match(fromFifo.stderr, /is a FIFO, not a trace file/);

    // A 65 MiB line between two good ones: skipped and counted, the good traces still print.
    const file = join(dir, 'huge-line.jsonl');
    const handle = await open(file, 'w');
    await handle.write(
      exportLine('11111111111111111111111111111111', {
        root: 'before',
        child: 'c',
        status: 's',
        model: 'm',
      }) + '\n',
    );
    await handle.write('{"resourceSpans":"');
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 65; i++) await handle.write(chunk);
    await handle.write('"}\nnot json\n\n');
    await handle.write(
      exportLine('22222222222222222222222222222222', {
        root: 'after',
        child: 'c',
        status: 's',
        model: 'm',
      }) + '\n',
    );
    await handle.close();
    const list = traceCli('--list', '--file', file);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^11111111111111111111111111111111 .* before .*\n22222222222222222222222222222222 .* after /,
    );
    assert.equal(
      list.stderr,
      `warning: skipped 1 malformed and 1 over 64 MiB line(s) in ${file}\n`,
    );
  });

  it(
    'streams a large file: memory stays far below the file size',
    { timeout: 180_000 },
    async (t) => {
      const file = join(dir, 'large.jsonl');
      const handle = await open(file, 'w');
      let size = 0;
      const template = exportLine(
        'TRACEID_TRACEID_TRACEID_TRACEID_',
        {
          root: 'iterate fill',
          child: 'chat',
          status: 'candidate_id W-1 not in roster',
          model: 'clean',
        },
        40,
      );
      let batch = '';
      for (let i = 0; size < 300 * 1024 * 1024; i++) {
        batch +=
          template.replaceAll(
            'TRACEID_TRACEID_TRACEID_TRACEID_',
            i.toString(16).padStart(32, '0'),
          ) + '\n';
        if (batch.length > 4 << 20) {
          await handle.write(batch);
          size += batch.length;
          batch = '';
        }
      }
      await handle.write(batch);
      await handle.close();
      // Peak RSS of the CLI (VmHWM), sampled until it exits.
      const child = spawn(process.execPath, [TRACE_CLI, '--last', '--file', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let peakKiB = 0;
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      const sampler = setInterval(() => {
        try {
          const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(
            readFileSync(`/proc/${child.pid}/status`, 'utf8'),
          );
          if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
        } catch {
          // exited
        }
      }, 10);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearInterval(sampler);
      assert.equal(code, 0);
      assert.match(stdout, /^trace 0+[0-9a-f]+ {2}iterate fill/);
      const peakMiB = peakKiB / 1024;
      assert.ok(peakKiB > 0, 'sampled the child');
      t.diagnostic(
        `peak RSS ${peakMiB.toFixed(0)} MiB over a ${(size / 2 ** 20).toFixed(0)} MiB trace file`,
      );
      assert.ok(
        peakMiB < 200,
        `peak RSS ${peakMiB.toFixed(0)} MiB over a ${(size / 2 ** 20).toFixed(0)} MiB file`,
      );
    },
  );
});
