// `npm start`: both services and the console on localhost with embedded defaults (sim provider, sample roster,
// session log and offline trace file under data/). Run after `tsc -b` (the npm script does that).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService } from './service-process.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(process.env.LAKEHOUSE_DATA_DIR ?? path.join(root, 'data'));
const rosterPath = path.resolve(process.env.ROSTER_PATH ?? path.join(dataDir, 'roster.parquet'));
const DEFAULT_ROSTER_ROWS = 2000;

mkdirSync(dataDir, { recursive: true });

const { WorkerLookup, generateRoster, sampleContract } = await import('@lakehouse/roster');
if (!existsSync(rosterPath)) {
  console.log(`start: no roster at ${rosterPath}; generating a ${DEFAULT_ROSTER_ROWS}-row sample`);
  await generateRoster({
    rows: DEFAULT_ROSTER_ROWS,
    out: rosterPath,
    onProgress: (m) => console.log(`start: ${m}`),
  });
}

const langfuseConfigured = Boolean(
  process.env.LANGFUSE_PUBLIC_KEY && process.env.LANGFUSE_SECRET_KEY,
);
const shared = {
  ROSTER_PATH: rosterPath,
  // The key both services sign and check their hops with, so chatd trusts only the gateway's
  // trace parents; a fresh one per run unless the shell sets one.
  LAKEHOUSE_HOP_KEY: process.env.LAKEHOUSE_HOP_KEY || randomBytes(32).toString('hex'),
  ...(langfuseConfigured
    ? {}
    : {
        LANGFUSE_TRACE_FILE: process.env.LANGFUSE_TRACE_FILE ?? path.join(dataDir, 'traces.jsonl'),
      }),
};
const chatdPort = process.env.CHATD_PORT ?? '4120';
const gatewayPort = process.env.GATEWAY_PORT ?? '4110';
const consolePort = process.env.CONSOLE_PORT ?? '4130';

const children = [];
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Gateway first so in-flight sessions finish while chatd still answers.
  for (const child of [...children].reverse()) await child.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function onUnexpectedExit(name) {
  return (code) => {
    if (stopping) return;
    console.error(`start: ${name} exited unexpectedly (code ${code}); stopping`);
    void stopAll(1);
  };
}

try {
  const chatd = await startService('chatd', {
    root,
    env: { ...shared, PORT: chatdPort },
    onExit: onUnexpectedExit('chatd'),
  });
  children.push(chatd);
  const gateway = await startService('gateway', {
    root,
    env: {
      ...shared,
      PORT: gatewayPort,
      CHATD_URL: chatd.url,
      SESSION_LOG_PATH: process.env.SESSION_LOG_PATH ?? path.join(dataDir, 'sessions.jsonl'),
    },
    onExit: onUnexpectedExit('gateway'),
  });
  children.push(gateway);
  // The read-only console over the same session log and trace file (or Langfuse, when keyed).
  const consoleService = await startService('console', {
    root,
    env: {
      PORT: consolePort,
      SESSION_LOG_PATH: gateway.env.SESSION_LOG_PATH,
      LANGFUSE_TRACE_FILE: shared.LANGFUSE_TRACE_FILE ?? '',
    },
    onExit: onUnexpectedExit('console'),
  });
  children.push(consoleService);

  const roster = await WorkerLookup.load(rosterPath);
  const contract = { target_count: 3, ...sampleContract(roster, 1), client_id: 'C-007' };
  const body = JSON.stringify({
    kind: 'fill',
    prompt: `Staff ${contract.target_count} ${contract.role}s in ${contract.city}, ${contract.state} for client ${contract.client_id}.`,
    provider: 'sim',
    model: 'phantom-once',
    context: contract,
  });
  console.log(`
lakehouse-observability is running (sim provider: an offline simulator, not a model)
  gateway  ${gateway.url}   (POST /v1/iterate, POST /v1/validate, /metrics)
  chatd    ${chatd.url}   (POST /v1/chat, GET /v1/providers, /metrics)
  console  ${consoleService.url}   (sessions, trees and the alarm in a browser; read-only)
  roster   ${rosterPath} (${roster.size} workers)
  sessions ${gateway.env.SESSION_LOG_PATH}
  traces   ${shared.LANGFUSE_TRACE_FILE ?? `Langfuse at ${process.env.LANGFUSE_BASE_URL ?? 'https://cloud.langfuse.com'}`}

Try a fill session (the phantom-once model invents a worker first, then corrects itself):
  curl -s -X POST ${gateway.url}/v1/iterate -H 'content-type: application/json' \\
    -d '${body}'

Then open ${consoleService.url} (or: npm run trace -- --last, npm run sessions -- report). Ctrl-C stops all three.
`);
} catch (error) {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}
