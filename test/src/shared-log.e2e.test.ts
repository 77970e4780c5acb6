// One session log, three runtimes at once (issue #15): the TS gateway under load, and the Go
// (encoding/json) and Rust (serde_json) reference producers appending their own rows, one write
// per row on an O_APPEND descriptor, to the same file. No line torn or interleaved, every row
// exactly once, one stream in `npm run sessions -- report`, and the alarm still finds its rows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildReferencePeers } from '@lakehouse/session-log';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import { REPO_ROOT, fillRequest, postJson, startStack } from './harness.js';
import { mapLimit, readSessionFile } from './faults-helpers.js';

const PEER_ROWS = 1500;
const GATEWAY_SESSIONS = 400;

// Fixtures of varied size (up to a 4,000-character prompt and a 60 KB artifact, so rows span
// several pages) for one producer; row 77 is an accepted fill NOT grounded in the roster.
function peerFixtures(prefix: string): string {
  let out = '';
  for (let i = 0; i < PEER_ROWS; i++) {
    const ungrounded = i === 77;
    const fill = i % 3 !== 2 || ungrounded;
    out +=
      JSON.stringify({
        session_id: `${prefix}${String(i).padStart(30, '0')}`,
        kind: fill ? 'fill' : 'email',
        model: `${prefix}-model`,
        provider: 'peer',
        prompt: 'é你😀'.repeat((i * 37) % 1334),
        iterations: 1,
        max_iterations: 3,
        final_verdict: 'accepted',
        attempts: [{ iteration: 0, verdict_kind: 'accepted' }],
        artifact: fill
          ? { fills: [{ candidate_id: `W-${i}`, name: 'x'.repeat((i * 4099) % 60_000) }] }
          : { to: 'a@b.c', subject: 's', body: 'b' },
        grounded_in_roster: fill ? !ungrounded : null,
        duration_ms: i,
      }) + '\n';
  }
  return out;
}

function runAppender(
  command: string,
  file: string,
  daemon: string,
  input: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, ['append', file, daemon], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(daemon) : reject(new Error(`${daemon} appender: ${code} ${stderr}`)),
    );
    child.stdin.end(input);
  });
}

function npmSessions(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'sessions', '--', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const skip = requires(PREREQUISITES.go, PREREQUISITES.cargo);

describe('one session log written by three runtimes at once', { skip }, () => {
  it(
    'gateway under load + Go + Rust appenders: no torn line, every row once, one report, the alarm works',
    { timeout: 300_000 },
    async () => {
      const peers = await buildReferencePeers(REPO_ROOT);
      const stack = await startStack();
      const file = stack.sessionLogPath;
      try {
        const requests = [await fillRequest('clean'), await fillRequest('phantom-once')];
        const answered: string[] = [];
        // All three producers start together and overlap for the whole run.
        const [, go, rust] = await Promise.all([
          mapLimit(
            Array.from({ length: GATEWAY_SESSIONS }, (_, i) => i),
            8,
            async (i) => {
              const res = await postJson(`${stack.gateway.url}/v1/iterate`, requests[i % 2]);
              assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 200));
              answered.push(String(res.body.trace_id));
            },
          ),
          runAppender(peers.go[0] ?? '', file, 'go', peerFixtures('g')),
          runAppender(peers.rust[0] ?? '', file, 'rust', peerFixtures('r')),
        ]);
        assert.deepEqual([go, rust], ['go', 'rust']);
        assert.equal(await stack.gateway.stop(), 0);

        const { rows, badLines } = readSessionFile(file);
        assert.deepEqual(
          badLines.map((l) => l.slice(0, 100)),
          [],
          'no torn or interleaved line',
        );
        const byDaemon = new Map<string, string[]>();
        for (const row of rows) {
          const list = byDaemon.get(String(row['daemon'])) ?? [];
          list.push(String(row['session_id']));
          byDaemon.set(String(row['daemon']), list);
        }
        assert.deepEqual([...byDaemon.keys()].sort(), ['gateway', 'go', 'rust']);
        assert.deepEqual(
          (byDaemon.get('gateway') ?? []).sort(),
          [...answered].sort(),
          'every answered session exactly once',
        );
        for (const [daemon, prefix] of [
          ['go', 'g'],
          ['rust', 'r'],
        ] as const) {
          const ids = byDaemon.get(daemon) ?? [];
          assert.equal(ids.length, PEER_ROWS, `${daemon}: every row`);
          assert.equal(new Set(ids).size, PEER_ROWS, `${daemon}: each once`);
          assert.ok(ids.every((id) => id.startsWith(prefix)));
        }
        // The runtimes really interleaved: each producer's rows are not one contiguous block.
        const order = rows.map((r) => String(r['daemon']));
        const switches = order.filter((d, i) => i > 0 && d !== order[i - 1]).length;
        assert.ok(switches > 10, `only ${switches} switches between producers`);

        const report = await npmSessions(['report', '--file', file]);
        assert.equal(report.code, 0, report.stderr);
        assert.match(report.stdout, new RegExp(`sessions: ${GATEWAY_SESSIONS + 2 * PEER_ROWS} `));
        assert.match(report.stdout, new RegExp(`producers \\(daemon\\)\\n.*\\n.*\\n(.*\\n){3}`));
        for (const [daemon, count] of [
          ['gateway', GATEWAY_SESSIONS],
          ['go', PEER_ROWS],
          ['rust', PEER_ROWS],
        ] as const) {
          assert.match(report.stdout, new RegExp(`^${daemon} +${count} `, 'm'), daemon);
        }
        assert.doesNotMatch(report.stdout, /WARNING/);

        const alarm = await npmSessions(['alarm', '--file', file]);
        assert.equal(alarm.code, 1, alarm.stdout + alarm.stderr);
        assert.match(
          alarm.stdout,
          /^ALARM: 2 accepted fill row\(s\) with grounded_in_roster = false/,
        );
        assert.match(alarm.stdout, /g0+77 .* go /);
        assert.match(alarm.stdout, /r0+77 .* rust /);
      } finally {
        await stack.stop();
      }
    },
  );
});
