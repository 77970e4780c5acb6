// `npm run smoke` (scripts/smoke.mjs) against running stacks: the `npm start` one (offline trace
// file), and one exporting to a local stand-in for Langfuse that serves Langfuse's public read API
// from the spans it received, with responses checked against test/fixtures/langfuse-openapi.yml.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { sampleContract, WorkerLookup } from '@lakehouse/roster';
import { buildLangfuseTrees } from '@lakehouse/langfuse-processor';
import type { LangfuseTraceTree, TreeObservation } from '@lakehouse/langfuse-processor';
import { REPO_ROOT, eventually, spawnNpmStart, startStack, type Stack } from './harness.js';
import {
  langfuseIngestionCheck,
  startOtlpReceiver,
  type OtlpReceiver,
} from '@lakehouse/test-support';

const SMOKE = path.join(REPO_ROOT, 'scripts/smoke.mjs');
// Vendored (its source is named in its header): the tests read nothing beside the clone.
const SPEC_PATH = path.join(REPO_ROOT, 'test/fixtures/langfuse-openapi.yml');
const PUBLIC_KEY = 'pk-lf-smoke-public';
const SECRET_KEY = 'sk-lf-smoke-secret';
const BASIC = `Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString('base64')}`;
const LANGFUSE_OFF = { LANGFUSE_PUBLIC_KEY: '', LANGFUSE_SECRET_KEY: '', LANGFUSE_BASE_URL: '' };

interface SmokeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/smoke.mjs to completion (killed after 90 s so a hang fails the test, not CI). */
function runSmoke(args: string[], env: Record<string, string> = {}): Promise<SmokeRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SMOKE, ...args], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...LANGFUSE_OFF,
        SESSION_LOG_PATH: '',
        LANGFUSE_TRACE_FILE: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

const show = (run: SmokeRun): string =>
  `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

// ---- Langfuse's public API schemas, from the vendored OpenAPI document --------------------------

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null type (or anyOf with null for $ref/allOf). */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!isObj(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'discriminator') continue;
    if (key === 'properties' && isObj(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, s]) => [name, toJsonSchema(s)]),
      );
    } else if (
      ['items', 'additionalProperties', 'not'].includes(key) ||
      ['allOf', 'anyOf', 'oneOf'].includes(key)
    ) {
      out[key] = toJsonSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (schema['nullable'] !== true) return out;
  if (typeof out['type'] === 'string') {
    out['type'] = [out['type'], 'null'];
    if (Array.isArray(out['enum'])) out['enum'] = [...(out['enum'] as unknown[]), null];
    return out;
  }
  if ('$ref' in out || 'allOf' in out || 'oneOf' in out || 'anyOf' in out)
    return { anyOf: [out, { type: 'null' }] };
  return out; // no type: anything, null included
}

interface SpecSchemas {
  validate(name: string, value: unknown): string[];
  /** Property names a schema declares, through allOf. */
  declared(name: string): Set<string>;
}

function loadSpecSchemas(): SpecSchemas {
  const doc = parseYaml(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as {
    components: { schemas: Json };
  };
  const raw = doc.components.schemas;
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: {
      'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
      double: true,
      float: true,
      int32: true,
      int64: true,
    },
  });
  const schemas = Object.fromEntries(
    Object.entries(raw).map(([name, schema]) => [name, toJsonSchema(schema)]),
  );
  ajv.addSchema({ $id: 'langfuse', components: { schemas } });
  const compiled = new Map<string, ValidateFunction>();
  const declared = (name: string): Set<string> => {
    const schema = raw[name];
    const names = new Set<string>();
    if (!isObj(schema)) return names;
    if (isObj(schema['properties']))
      for (const key of Object.keys(schema['properties'])) names.add(key);
    for (const part of Array.isArray(schema['allOf']) ? schema['allOf'] : []) {
      const ref = isObj(part) ? String(part['$ref'] ?? '') : '';
      for (const key of declared(ref.replace('#/components/schemas/', ''))) names.add(key);
    }
    return names;
  };
  return {
    validate(name, value) {
      let fn = compiled.get(name);
      if (!fn) {
        fn = ajv.getSchema(`langfuse#/components/schemas/${name}`);
        assert.ok(fn, `schema ${name} in the spec`);
        compiled.set(name, fn);
      }
      return fn(value)
        ? []
        : (fn.errors ?? []).map((e) => `${name}${e.instancePath} ${e.message ?? ''}`);
    },
    declared,
  };
}

// ---- a stand-in for Langfuse: OTLP ingestion + the public read API ----------------------------

interface LangfuseStandIn {
  readonly url: string;
  readonly receiver: OtlpReceiver;
  /** What the read API served, and every way a response broke the spec. */
  readonly served: { v2: number; v1: number; schemaErrors: string[] };
  /** 404 makes `GET /api/public/v2/observations` answer like a server without it. */
  v2Status: 200 | 404;
  /** Pretend ingestion never catches up: no observations, v1 404. */
  hideTraces: boolean;
  close(): Promise<void>;
}

const checkIngestion = langfuseIngestionCheck(PUBLIC_KEY, SECRET_KEY);

const iso = (ms: number): string => new Date(ms).toISOString();

function usageDetails(o: TreeObservation): Record<string, number> {
  if (!o.usage) return {};
  const out: Record<string, number> = { ...o.usage };
  out['total'] ??= Object.values(o.usage).reduce((a, b) => a + b, 0);
  return out;
}

/** An ObservationV2 with the requested field groups (spec: observations_getMany). */
function observationV2(o: TreeObservation, groups: Set<string>): Json {
  const out: Json = {
    id: o.id,
    traceId: o.traceId,
    startTime: iso(o.startTimeMs),
    endTime: iso(o.endTimeMs),
    projectId: 'lakehouse-smoke',
    parentObservationId: o.parentId ?? null,
    type: o.type.toUpperCase(),
    // Required in every response; null unless the model group is requested.
    modelId: null,
    inputPrice: null,
    outputPrice: null,
    totalPrice: null,
  };
  if (groups.has('basic')) {
    Object.assign(out, {
      name: o.name,
      level: o.level,
      statusMessage: o.statusMessage ?? null,
      version: null,
      environment: 'default',
      bookmarked: false,
      public: false,
      userId: null,
      sessionId: null,
      isRootObservation: o.isRoot,
    });
  }
  if (groups.has('model')) {
    Object.assign(out, {
      providedModelName: o.model ?? null,
      internalModelId: null,
      modelParameters: null,
    });
  }
  if (groups.has('usage')) {
    Object.assign(out, {
      usageDetails: usageDetails(o),
      costDetails: {},
      totalCost: 0,
      usagePricingTierName: null,
    });
  }
  return out;
}

/** An ObservationsView as `GET /api/public/traces/{traceId}` returns it. */
function observationView(o: TreeObservation): Json {
  const usage = usageDetails(o);
  return {
    id: o.id,
    traceId: o.traceId,
    type: o.type.toUpperCase(),
    name: o.name,
    startTime: iso(o.startTimeMs),
    endTime: iso(o.endTimeMs),
    completionStartTime: null,
    model: o.model ?? null,
    modelParameters: null,
    input: o.input ?? null,
    version: null,
    metadata: {},
    output: o.output ?? null,
    usage: {
      input: usage['input'] ?? 0,
      output: usage['output'] ?? 0,
      total: usage['total'] ?? 0,
      unit: o.usage ? 'TOKENS' : null,
    },
    level: o.level,
    statusMessage: o.statusMessage ?? null,
    parentObservationId: o.parentId ?? null,
    promptId: null,
    usageDetails: usage,
    costDetails: {},
    environment: 'default',
    promptName: null,
    promptVersion: null,
    modelId: null,
    inputPrice: null,
    outputPrice: null,
    totalPrice: null,
    calculatedInputCost: null,
    calculatedOutputCost: null,
    calculatedTotalCost: null,
    latency: o.durationMs / 1000,
    timeToFirstToken: null,
  };
}

function traceWithFullDetails(tree: LangfuseTraceTree): Json {
  return {
    id: tree.traceId,
    timestamp: iso(tree.startTimeMs),
    name: tree.name,
    input: tree.input ?? null,
    output: tree.output ?? null,
    sessionId: null,
    release: null,
    version: null,
    userId: null,
    metadata: tree.metadata,
    tags: tree.tags,
    public: false,
    environment: 'default',
    htmlPath: `/project/lakehouse-smoke/traces/${tree.traceId}`,
    latency: (tree.endTimeMs - tree.startTimeMs) / 1000,
    totalCost: 0,
    observations: tree.observations.map(observationView),
    scores: [],
    _deprecation: {
      message:
        'Langfuse v3 is deprecated; read span and trace data via GET /api/public/v2/observations.',
      replacement: 'GET /api/public/v2/observations',
      sunsetAt: '2026-11-16',
    },
  };
}

/**
 * One base URL, as on a real Langfuse: OTLP ingestion goes to an otlp-receiver (which checks path,
 * Basic auth and the ingestion-version header); the read API rebuilds observations from what it
 * received with Langfuse's server rules and pages them `pageSize` at a time.
 */
async function startLangfuseStandIn(specs: SpecSchemas, pageSize = 3): Promise<LangfuseStandIn> {
  const receiver = await startOtlpReceiver({ check: checkIngestion });
  const served = { v2: 0, v1: 0, schemaErrors: [] as string[] };
  const trees = (): LangfuseTraceTree[] => {
    const bodies = receiver.requests
      .filter((r) => checkIngestion(r) === undefined)
      .map((r) => {
        try {
          return JSON.parse(r.body) as unknown;
        } catch {
          return undefined;
        }
      });
    return buildLangfuseTrees(bodies.filter((b) => b !== undefined));
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, schema?: string): void => {
    if (schema) served.schemaErrors.push(...specs.validate(schema, body));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const standIn: LangfuseStandIn = {
    url: '',
    receiver,
    served,
    v2Status: 200,
    hideTraces: false,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await receiver.close();
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (error) {
        // A stand-in bug must show up in the test, not as a hung smoke run.
        served.schemaErrors.push(
          `stand-in error: ${error instanceof Error ? error.stack : String(error)}`,
        );
        res.writeHead(500).end();
      }
    });
  });
  const handle = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    requestBody: Buffer,
  ): void => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'POST') {
      // Ingestion: hand the request to the OTLP receiver as is and relay its answer.
      const headers: Record<string, string> = {};
      for (const key of [
        'content-type',
        'content-encoding',
        'authorization',
        'x-langfuse-ingestion-version',
      ]) {
        const value = req.headers[key];
        if (typeof value === 'string') headers[key] = value;
      }
      fetch(`${receiver.url}${req.url ?? '/'}`, { method: 'POST', headers, body: requestBody })
        .then(async (answer) =>
          res
            .writeHead(answer.status, { 'content-type': 'application/json' })
            .end(await answer.text()),
        )
        .catch(() => res.writeHead(502).end());
      return;
    }
    if (req.headers['authorization'] !== BASIC) {
      send(res, 401, { message: 'Invalid credentials' });
      return;
    }
    if (url.pathname === '/api/public/v2/observations') {
      if (standIn.v2Status === 404) {
        send(res, 404, { message: 'Not found' });
        return;
      }
      served.v2++;
      const traceId = url.searchParams.get('traceId') ?? '';
      const groups = new Set([
        'core',
        ...(url.searchParams.get('fields') ?? 'core,basic').split(','),
      ]);
      const tree = standIn.hideTraces ? undefined : trees().find((t) => t.traceId === traceId);
      const all = tree ? tree.observations : [];
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 50) || 50, 1000, pageSize);
      const offset = Number(
        Buffer.from(url.searchParams.get('cursor') ?? '', 'base64').toString() || 0,
      );
      const page = all.slice(offset, offset + limit);
      const meta: Json =
        offset + limit < all.length
          ? { cursor: Buffer.from(String(offset + limit)).toString('base64') }
          : {};
      const body = { data: page.map((o) => observationV2(o, groups)), meta };
      for (const item of body.data) {
        served.schemaErrors.push(...specs.validate('ObservationType', item['type']));
        const extra = Object.keys(item).filter((k) => !specs.declared('ObservationV2').has(k));
        if (extra.length > 0)
          served.schemaErrors.push(`ObservationV2 has undeclared keys ${extra.join(', ')}`);
      }
      send(res, 200, body, 'ObservationsV2Response');
      return;
    }
    const v1 = /^\/api\/public\/traces\/([^/]+)$/.exec(url.pathname);
    if (v1) {
      served.v1++;
      const tree = standIn.hideTraces ? undefined : trees().find((t) => t.traceId === v1[1]);
      if (!tree) {
        send(res, 404, { message: `Trace ${v1[1]} not found within authorized project` });
        return;
      }
      const body = traceWithFullDetails(tree);
      const extra = Object.keys(body).filter((k) => !specs.declared('TraceWithFullDetails').has(k));
      if (extra.length > 0)
        served.schemaErrors.push(`TraceWithFullDetails has undeclared keys ${extra.join(', ')}`);
      send(res, 200, body, 'TraceWithFullDetails');
      return;
    }
    send(res, 404, { message: 'Not found' });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (standIn as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

// ---- the `npm start` stack --------------------------------------------------------------------

interface NpmStartStack {
  readonly gateway: string;
  readonly chatd: string;
  readonly dataDir: string;
  stop(): Promise<number | null>;
}

async function startNpmStart(): Promise<NpmStartStack> {
  const started = spawnNpmStart('lakehouse-smoke-start-');
  try {
    const urls = await eventually(
      () => {
        const output = started.output();
        const gateway = /^\s+gateway\s+(http:\/\/\S+)/m.exec(output)?.[1];
        const chatd = /^\s+chatd\s+(http:\/\/\S+)/m.exec(output)?.[1];
        return gateway && chatd ? { gateway, chatd } : undefined;
      },
      60_000,
      'the gateway and chatd URLs in the output of npm start',
    );
    return { ...urls, dataDir: started.dataDir, stop: () => started.stop() };
  } catch (error) {
    await started.stop();
    throw new Error(`${String(error)}\n${started.output()}`);
  }
}

// ---- the tests --------------------------------------------------------------------------------

describe('npm run smoke against the `npm start` stack', () => {
  it('passes and prints the evidence: probes, 3 sessions, their rows, the retried tree, metrics', async () => {
    const stack = await startNpmStart();
    try {
      const run = await runSmoke(
        [
          '--gateway',
          stack.gateway,
          '--chatd',
          stack.chatd,
          '--sessions',
          path.join(stack.dataDir, 'sessions.jsonl'),
          '--traces',
          path.join(stack.dataDir, 'traces.jsonl'),
          '--timeout',
          '30',
        ],
        { ROSTER_PATH: path.join(stack.dataDir, 'roster.parquet') },
      );
      assert.equal(run.code, 0, show(run));
      const out = run.stdout;
      for (const line of [
        'ok    gateway /healthz 200',
        'ok    chatd /healthz 200',
        'ok    gateway /readyz 200',
      ]) {
        assert.ok(out.includes(line), `${line}\n${show(run)}`);
      }
      const retried =
        /^ok {4}session 1\/3 retried \(sim\/phantom-once\) 200 accepted in 2 iteration\(s\); trace ([0-9a-f]{32}) in header and body; validation_failed "candidate_id W-\d+ not in roster" → accepted$/m.exec(
          out,
        );
      assert.ok(retried, show(run));
      const traceId = retried[1]!;
      assert.match(
        out,
        /^ok {4}session 2\/3 chosen trace id \(sim\/clean, x-lakehouse-trace-id ([0-9a-f]{32})\) 200 accepted in 1 iteration\(s\); trace \1 in header and body/m,
      );
      assert.match(out, /^ok {4}session 3\/3 clean \(sim\/clean\) 200 accepted in 1 iteration/m);
      assert.equal(
        out.match(/^ok {4}session row [0-9a-f]{32} in .*sessions\.jsonl: accepted/gm)?.length,
        3,
        show(run),
      );
      assert.match(
        out,
        new RegExp(
          `^ok {4}session row ${traceId} .*attempts validation_failed\\(span [0-9a-f]{16}\\) → accepted\\(span [0-9a-f]{16}\\)$`,
          'm',
        ),
      );
      assert.match(
        out,
        new RegExp(
          `^ok {4}tree ${traceId} from .*traces\\.jsonl: 1 root \\(iterate fill\\), 2 attempt\\(s\\), 2 generation\\(s\\) \\(model phantom-once\\), WARNING on attempt 0, no dangling parents$`,
          'm',
        ),
      );
      assert.match(
        out,
        new RegExp(`^ {6}trace ${traceId}  iterate:fill  accepted`, 'm'),
        'the rendered tree is printed',
      );
      assert.match(out, /^ {6}├─ attempt 0 +span +WARNING/m);
      assert.match(
        out,
        /^ {6}│ {2}├─ chat phantom-once +generation +DEFAULT .*model=phantom-once tokens \d+→\d+/m,
      );
      assert.match(
        out,
        /^ok {4}attempt span ids in the session row match the tree's attempt observations/m,
      );
      assert.match(
        out,
        /^ok {4}gateway \/metrics: lakehouse_iterate_sessions_total\{kind="fill"\} 0 → 3$/m,
      );
      assert.match(
        out,
        /^ok {4}chatd \/metrics: gen_ai_client_token_usage \d+ tokens over 4 call\(s\)$/m,
      );
      assert.match(out, /^smoke: ok — 3 sessions .*session rows checked, tree of 7 observations/m);
      assert.equal(run.stderr, '');
    } finally {
      assert.equal(await stack.stop(), 0, 'npm start stops cleanly');
    }
  });
});

describe('npm run smoke in Langfuse mode (stand-in for Langfuse ingestion and its public read API)', () => {
  let specs: SpecSchemas;
  let standIn: LangfuseStandIn;
  let stack: Stack;
  let args: string[];
  let env: Record<string, string>;

  before(async () => {
    specs = loadSpecSchemas();
    standIn = await startLangfuseStandIn(specs);
    const langfuse = {
      LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
      LANGFUSE_SECRET_KEY: SECRET_KEY,
      LANGFUSE_BASE_URL: standIn.url,
    };
    stack = await startStack({ env: langfuse });
    const roster = await WorkerLookup.load(stack.rosterPath, { logger: { warn() {} } });
    const contract = { target_count: 3, ...sampleContract(roster, 1), client_id: 'C-007' };
    args = [
      '--gateway',
      stack.gateway.url,
      '--chatd',
      stack.chatd.url,
      '--sessions',
      stack.sessionLogPath,
      '--contract',
      JSON.stringify(contract),
    ];
    env = langfuse;
  });
  after(async () => {
    await stack?.stop();
    await standIn?.close();
  });

  it('checks the stand-in against the spec for real: broken bodies fail the schemas', () => {
    assert.deepEqual(specs.validate('ObservationsV2Response', { data: [], meta: {} }), []);
    assert.ok(
      specs.validate('ObservationsV2Response', { data: [{ id: 'x' }] }).length > 0,
      'missing meta and core fields',
    );
    const core = {
      id: 'a',
      traceId: 't',
      startTime: '2026-11-25T00:00:00.000Z',
      endTime: null,
      projectId: 'p',
      parentObservationId: null,
      type: 'SPAN',
      modelId: null,
      inputPrice: null,
      outputPrice: null,
      totalPrice: null,
    };
    assert.deepEqual(specs.validate('ObservationV2', core), []);
    assert.ok(
      specs.validate('ObservationV2', { ...core, level: 'LOUD' }).length > 0,
      'level outside ObservationLevel',
    );
    assert.ok(
      specs.validate('ObservationV2', { ...core, startTime: 'yesterday' }).length > 0,
      'date-time format',
    );
    assert.ok(
      specs.validate('ObservationV2', { ...core, usageDetails: { input: 1.5 } }).length > 0,
      'usage units are integers',
    );
    assert.ok(specs.validate('ObservationType', 'BANANA').length > 0);
    assert.ok(
      specs.validate('TraceWithFullDetails', { id: 't', observations: [] }).length > 0,
      'Trace fields are required',
    );
  });

  it('passes reading the tree from GET /api/public/v2/observations (responses valid per the spec)', async () => {
    const run = await runSmoke([...args, '--timeout', '30'], env);
    assert.equal(run.code, 0, show(run));
    assert.match(
      run.stdout,
      /^smoke: gateway .* tree from Langfuse at http:\/\/127\.0\.0\.1:\d+$/m,
    );
    assert.match(
      run.stdout,
      /^ok {4}tree [0-9a-f]{32} from Langfuse http:\/\/127\.0\.0\.1:\d+ \(GET \/api\/public\/v2\/observations\): 1 root \(iterate fill\), 2 attempt\(s\), 2 generation\(s\) \(model phantom-once\), WARNING on attempt 0/m,
    );
    assert.match(run.stdout, /^ {6}├─ attempt 0 +span +WARNING/m);
    assert.match(run.stdout, /^ {6}│ {2}└─ validate fill +guardrail +WARNING/m);
    assert.match(
      run.stdout,
      /^ok {4}attempt span ids in the session row match the tree's attempt observations/m,
    );
    assert.ok(standIn.served.v2 > 0, 'the v2 endpoint was queried');
    assert.equal(standIn.served.v1, 0, 'no fallback while v2 answers');
    assert.deepEqual(standIn.served.schemaErrors, []);
    assert.ok(standIn.receiver.requests.length > 0);
    for (const request of standIn.receiver.requests)
      assert.equal(checkIngestion(request), undefined);
  });

  it('falls back to GET /api/public/traces/{traceId} when the server has no v2 observations API', async () => {
    standIn.v2Status = 404;
    try {
      const run = await runSmoke([...args, '--timeout', '30'], env);
      assert.equal(run.code, 0, show(run));
      assert.match(
        run.stdout,
        /^note {2}langfuse: .*\/api\/public\/v2\/observations\?.* answered 404; falling back to GET \/api\/public\/traces\/\{traceId\}$/m,
      );
      assert.match(
        run.stdout,
        /^ok {4}tree [0-9a-f]{32} from Langfuse .*\(GET \/api\/public\/traces\/\{traceId\}\): 1 root \(iterate fill\), 2 attempt\(s\), 2 generation\(s\).*WARNING on attempt 0/m,
      );
      assert.ok(standIn.served.v1 > 0, 'the v1 endpoint was queried');
      assert.deepEqual(standIn.served.schemaErrors, []);
    } finally {
      standIn.v2Status = 200;
    }
  });

  it('fails naming the trace when it never arrives in Langfuse, within --timeout', async () => {
    standIn.hideTraces = true;
    try {
      const run = await runSmoke([...args, '--timeout', '2'], env);
      assert.equal(run.code, 1, show(run));
      assert.match(
        run.stderr,
        /^smoke: FAIL trace ([0-9a-f]{32}): session tree not in Langfuse after 2 s \(last: GET \/api\/public\/v2\/observations returned 0 observation\(s\)/m,
      );
      assert.match(run.stdout, /^FAIL {2}trace [0-9a-f]{32}: session tree not in Langfuse/m);
      assert.doesNotMatch(run.stdout, /^smoke: ok/m);
    } finally {
      standIn.hideTraces = false;
    }
  });

  it('fails naming the trace when the offline trace file never gets it (no Langfuse keys)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-smoke-traces-'));
    try {
      const traces = path.join(dir, 'traces.jsonl');
      writeFileSync(traces, '');
      const run = await runSmoke([...args, '--traces', traces, '--timeout', '2']);
      assert.equal(run.code, 1, show(run));
      assert.match(run.stdout, /tree from offline trace file/);
      assert.match(
        run.stderr,
        /^smoke: FAIL trace [0-9a-f]{32}: nothing was written to .*traces\.jsonl during this run: if the stack exports to Langfuse, set LANGFUSE_PUBLIC_KEY/m,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails naming chatd when chatd is stopped', async () => {
    await stack.chatd.stop();
    const run = await runSmoke([...args, '--timeout', '2'], env);
    assert.equal(run.code, 1, show(run));
    assert.match(run.stdout, /^ok {4}gateway \/healthz 200/m);
    assert.match(
      run.stderr,
      /^smoke: FAIL chatd \/healthz: http:\/\/127\.0\.0\.1:\d+\/healthz unreachable \(ECONNREFUSED\); is chatd running\?/m,
    );
  });
});
