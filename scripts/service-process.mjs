// Starts a service the way production does: its package.json "start" script, run in the service
// folder. Shared by `npm start` and the end-to-end tests so both exercise the same command.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const READY_TIMEOUT_MS = 30_000;

/**
 * Env for a service started by a test or the bench: a free port, quiet logs, and every inherited
 * Langfuse/OTLP/session-log setting cleared so the developer's shell cannot leak in.
 */
export function isolatedServiceEnv(extra = {}) {
  return {
    PORT: '0',
    LOG_LEVEL: 'warn',
    LANGFUSE_PUBLIC_KEY: '',
    LANGFUSE_SECRET_KEY: '',
    LANGFUSE_BASE_URL: '',
    LANGFUSE_TRACE_FILE: '',
    LANGFUSE_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_TRACES_EXPORTER: '',
    OTEL_SDK_DISABLED: '',
    SESSION_LOG_PATH: '',
    SIM_LATENCY_MS: '0',
    // Both services of a test or bench stack share it (npm start makes a random one).
    LAKEHOUSE_HOP_KEY: 'lakehouse-tests-and-bench-hop-key',
    ...extra,
  };
}

/**
 * The argv of a service's start script, e.g. ['node', '--import', …, 'dist/src/server.js'].
 * `importFile` replaces the script's `--import` module (the bench's stock-OTel variants).
 */
export function serviceStartArgv(root, name, importFile) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'services', name, 'package.json'), 'utf8'));
  const script = pkg.scripts?.start;
  if (typeof script !== 'string')
    throw new Error(`services/${name}/package.json has no "start" script`);
  const argv = script.trim().split(/\s+/);
  if (importFile === undefined) return argv;
  const at = argv.indexOf('--import');
  if (at < 0) throw new Error(`services/${name} start script has no --import to replace`);
  argv[at + 1] = importFile;
  return argv;
}

/**
 * Spawns the service and resolves once it logs its "listening" line.
 * Lines are echoed with a name prefix unless `quiet`; `lines` keeps every line for assertions.
 * A `node …` script runs on `node` (default: the current binary; the image test passes Node 24).
 */
export function startService(
  name,
  { root, env = {}, quiet = false, onExit, importFile, node = process.execPath } = {},
) {
  const [command, ...args] = serviceStartArgv(root, name, importFile);
  const cwd = path.join(root, 'services', name);
  const fullEnv = { ...process.env, ...env };
  const child = spawn(command === 'node' ? node : command, args, {
    cwd,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let exited = false;
  const exitPromise = new Promise((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${name} did not report "listening" within ${READY_TIMEOUT_MS} ms:\n${lines.slice(-20).join('\n')}`,
        ),
      );
    }, READY_TIMEOUT_MS);
    timer.unref();

    const handle = {
      name,
      child,
      lines,
      env: fullEnv,
      url: '',
      port: 0,
      exited: () => exited,
      /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
      async stop(graceMs = 10_000) {
        if (exited) return exitPromise;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exitPromise;
        clearTimeout(killer);
        return code;
      },
    };

    const onLine = (stream) => (line) => {
      lines.push(line);
      if (!quiet) stream.write(`[${name}] ${line}\n`);
      if (handle.url) return;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry && entry.message === 'listening' && typeof entry.port === 'number') {
        handle.port = entry.port;
        handle.url = `http://127.0.0.1:${entry.port}`;
        clearTimeout(timer);
        resolve(handle);
      }
    };
    splitLines(child.stdout, onLine(process.stdout));
    splitLines(child.stderr, onLine(process.stderr));
    void exitPromise.then((code) => {
      if (!handle.url) {
        clearTimeout(timer);
        reject(
          new Error(
            `${name} exited with code ${code} before listening:\n${lines.slice(-20).join('\n')}`,
          ),
        );
      } else {
        onExit?.(code);
      }
    });
  });
}

function splitLines(stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
  });
}
