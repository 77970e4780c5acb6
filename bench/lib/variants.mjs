// The stacks the end-to-end figures compare, all on the same app and the same roster. Each is a
// real gateway + chatd started with the services' production start command; the stock variants
// only swap the `--import` module (bench/lib/variants/*.mjs) for the service's instrument.js.
import path from 'node:path';
import { REPO_ROOT, progress } from './common.mjs';
import { benchWorkdir, socketsTo, startReceiver, startStack } from './services.mjs';

const VARIANTS_DIR = path.join(REPO_ROOT, 'bench/lib/variants');

/** Printed with every end-to-end figure: both sides of each ratio use the same connections. */
export const KEEP_ALIVE_NOTE =
  'keep-alive on every side (client→gateway autocannon, gateway→chatd and →/v1/validate Node agent keepAlive); MAX_CONNECTIONS_PER_PEER=1024 (autocannon is one peer)';

/**
 * How variant `name` is started: env for both services, gatewayEnv, and the --import module.
 * `name@--v8-flag=value` (exploration, e.g. `full@--max-semi-space-size=64`) is variant `name`
 * with that flag in both services' NODE_OPTIONS.
 */
export function definition(name, options) {
  const at = name.indexOf('@');
  if (at < 0) return baseDefinition(name, options);
  const d = baseDefinition(name.slice(0, at), options);
  return { ...d, env: { ...d.env, NODE_OPTIONS: name.slice(at + 1) } };
}

function baseDefinition(name, { receiverUrl, sessionLogPath }) {
  const langfuse = {
    LANGFUSE_PUBLIC_KEY: 'pk-lf-bench',
    LANGFUSE_SECRET_KEY: 'sk-lf-bench',
    LANGFUSE_BASE_URL: receiverUrl,
  };
  switch (name) {
    case 'off':
      return { env: { OTEL_SDK_DISABLED: 'true' } };
    case 'off+als':
      return {
        env: { OTEL_SDK_DISABLED: 'true' },
        importFile: path.join(VARIANTS_DIR, 'als-tax.mjs'),
      };
    case 'off+burn50':
      return {
        env: { OTEL_SDK_DISABLED: 'true', BENCH_BURN_US: '50' },
        importFile: path.join(VARIANTS_DIR, 'burn.mjs'),
      };
    case 'off+alloc':
      return {
        env: { OTEL_SDK_DISABLED: 'true', BENCH_ALLOC_OBJECTS: '2000' },
        importFile: path.join(VARIANTS_DIR, 'burn.mjs'),
      };
    case 'full':
      return { env: langfuse, gatewayEnv: { SESSION_LOG_PATH: sessionLogPath } };
    // Attribution: the SDK and metrics alone (no Langfuse export, no session log) ...
    case 'sdk-only':
      return { env: {} };
    // ... and full without the session log.
    case 'full-nolog':
      return { env: langfuse };
    case 'full-nocapture':
      return {
        env: { ...langfuse, CONTENT_CAPTURE: 'false' },
        gatewayEnv: { SESSION_LOG_PATH: sessionLogPath },
      };
    case 'stock-sdk':
      return {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl },
        importFile: path.join(VARIANTS_DIR, 'stock-sdk.mjs'),
      };
    case 'stock-auto':
      return {
        // The cloud detectors would probe metadata endpoints at start-up; nothing per request.
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
          OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
        },
        importFile: path.join(VARIANTS_DIR, 'stock-auto.mjs'),
      };
    case 'langfuse-otel':
      return {
        // Langfuse takes traces only; its docs' NodeSDK setup has no metrics or logs exporter.
        env: { ...langfuse, OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
        importFile: path.join(VARIANTS_DIR, 'langfuse-otel.mjs'),
      };
    default:
      throw new Error(`unknown variant ${name}`);
  }
}

/** Starts one stack per variant name; `chatdEnv` is added to every chatd (e.g. SIM_LATENCY_MS). */
export async function startVariants(
  names,
  { rosterPath, receiverUrl, sessionLogPath, label, chatdEnv = {} },
) {
  const stacks = {};
  try {
    for (const name of names) {
      progress(`${label}: starting "${name}"`);
      const d = definition(name, {
        receiverUrl,
        sessionLogPath: sessionLogPath.replace(/\.jsonl$/, `-${name}.jsonl`),
      });
      stacks[name] = await startStack({
        rosterPath,
        env: d.env,
        gatewayEnv: d.gatewayEnv ?? {},
        chatdEnv,
        importFile: d.importFile,
      });
    }
  } catch (error) {
    await stopAll(stacks);
    throw error;
  }
  return stacks;
}

/**
 * Runs `measure(stacks)` with one stack per variant name, a local OTLP receiver and a scratch
 * folder (roster + session logs), and tears all of them down whatever happens.
 */
export async function withVariantStacks(names, { label, chatdEnv = {} }, measure) {
  const work = await benchWorkdir();
  const receiver = await startReceiver();
  let stacks = {};
  try {
    stacks = await startVariants(names, {
      rosterPath: work.rosterPath,
      receiverUrl: receiver.url,
      sessionLogPath: path.join(work.dir, 'sessions.jsonl'),
      label,
      chatdEnv,
    });
    return await measure(stacks);
  } finally {
    await stopAll(stacks);
    await receiver.stop().catch(() => undefined);
    work.remove();
  }
}

export async function stopAll(stacks) {
  await Promise.all(Object.values(stacks).map((s) => s.stop().catch(() => undefined)));
}

/** Sockets (open or in TIME_WAIT) to each stack's chatd: a handful = connections were reused. */
export function keepAliveEvidence(stacks) {
  return Object.fromEntries(
    Object.entries(stacks).map(([name, s]) => [name, socketsTo(s.chatd.port)]),
  );
}
