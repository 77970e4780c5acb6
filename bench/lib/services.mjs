// Starts the real services (their production start command, via scripts/service-process.mjs)
// and the local OTLP receiver child for the end-to-end figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './common.mjs';

const { isolatedServiceEnv, startService } = await import(
  pathToFileURL(path.join(REPO_ROOT, 'scripts/service-process.mjs')).href
);

/** The request every end-to-end figure sends: a fill with the `clean` sim model (one attempt). */
export const ITERATE_BODY = JSON.stringify({
  kind: 'fill',
  prompt: 'Staff 3 picker packers in Allentown, PA for client C-007.',
  provider: 'sim',
  model: 'clean',
  context: {
    target_count: 3,
    city: 'Allentown',
    state: 'PA',
    role: 'picker packer',
    client_id: 'C-007',
  },
});

const FILLER =
  ' The site runs two shifts, early and late, and every worker placed must hold a valid forklift' +
  ' certificate, wear steel-toe boots, and confirm availability for the whole of next week.';

/**
 * An iterate request body like ITERATE_BODY whose prompt is padded to `promptBytes` bytes of
 * ordinary prose (no secret-looking text, so the mask's fast path is the one measured).
 */
export function iterateBody(promptBytes) {
  const request = JSON.parse(ITERATE_BODY);
  let prompt = request.prompt;
  while (Buffer.byteLength(prompt) < promptBytes) prompt += FILLER;
  request.prompt = prompt.slice(0, Math.max(request.prompt.length, promptBytes));
  return JSON.stringify(request);
}

/** Loopback sockets (any state, TIME_WAIT included) whose remote port is `port`: connection reuse evidence. */
export function socketsTo(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const remote = line.trim().split(/\s+/)[2];
      if (remote !== undefined && remote.endsWith(hex)) n++;
    }
  }
  return n;
}

/** A temp dir with a small sample roster (what `npm start` creates). */
export async function benchWorkdir() {
  const { generateRoster } = await import('@lakehouse/roster');
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-bench-'));
  const rosterPath = path.join(dir, 'roster.parquet');
  await generateRoster({ rows: 2000, out: rosterPath, seed: 42 });
  return { dir, rosterPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// The load generator is one address with up to 400 connections: like a reverse proxy in front
// of the gateway, it needs the per-peer cap raised to the whole cap (README, Configuration).
const ONE_PEER_LOAD = { MAX_CONNECTIONS_PER_PEER: '1024' };

/**
 * chatd + gateway with the same extra env on both (plus per-service extras); resolves once both
 * listen. `importFile` replaces the services' instrument.js (the stock-OTel variants).
 */
export async function startStack({
  rosterPath,
  env = {},
  gatewayEnv = {},
  chatdEnv = {},
  importFile,
}) {
  const chatd = await startService('chatd', {
    root: REPO_ROOT,
    env: isolatedServiceEnv({
      ROSTER_PATH: rosterPath,
      OTEL_SERVICE_NAME: 'chatd',
      ...ONE_PEER_LOAD,
      ...env,
      ...chatdEnv,
    }),
    quiet: true,
    importFile,
  });
  let gateway;
  try {
    gateway = await startService('gateway', {
      root: REPO_ROOT,
      env: isolatedServiceEnv({
        ROSTER_PATH: rosterPath,
        CHATD_URL: chatd.url,
        OTEL_SERVICE_NAME: 'gateway',
        ...ONE_PEER_LOAD,
        ...env,
        ...gatewayEnv,
      }),
      quiet: true,
      importFile,
    });
  } catch (error) {
    await chatd.stop();
    throw error;
  }
  return {
    chatd,
    gateway,
    async stop() {
      await gateway.stop();
      await chatd.stop();
    },
  };
}

/** The OTLP receiver child; `stop()` resolves with what it received. */
export function startReceiver() {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bench/lib/receiver.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  let buffered = '';
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const next = (index) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (lines.length > index) resolve(lines[index]);
        else waiters.push(check);
      };
      child.once('exit', () => reject(new Error('receiver exited')));
      check();
    });
  return next(0).then(({ port }) => ({
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      return next(1).catch(() => ({ requests: NaN, bytes: NaN }));
    },
  }));
}

/** A loopback port nothing listens on (bound, then closed): the "endpoint down" target. */
export function closedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
