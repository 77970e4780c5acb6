import { timeSpan } from './trace-tree.js';
import type { LangfuseTraceTree, TreeObservation } from './trace-tree.js';

/** Where and how to read Langfuse's public API. */
export interface LangfuseApi {
  readonly baseUrl: string;
  /** `Basic base64(publicKey:secretKey)`. */
  readonly authorization: string;
  readonly timeoutMs?: number;
}

/** One observation as the public API returns it, reduced to what the tree views need. */
export interface LangfuseApiObservation {
  readonly id: string;
  readonly parentId: string | undefined;
  readonly isRoot: boolean;
  readonly name: string;
  /** Upper case, as the API spells it: SPAN, GENERATION, GUARDRAIL, … */
  readonly type: string;
  readonly level: string;
  readonly model: string | undefined;
  readonly usage: Readonly<Record<string, number>> | undefined;
  readonly statusMessage: string | undefined;
  readonly startTime: string | undefined;
  readonly endTime: string | undefined;
}

/**
 * What one read returned: observations, or the HTTP answer that stood in the way. `invalid`
 * counts the entries left out: not an object, or no string `id` or `type`.
 */
export type LangfuseObservationsResult =
  | {
      readonly observations: LangfuseApiObservation[];
      readonly invalid: number;
      readonly endpoint: string;
      readonly name: string | undefined;
      readonly htmlPath: string | undefined;
    }
  | {
      readonly observations?: undefined;
      readonly url: string;
      readonly status: number | undefined;
      readonly error: string | undefined;
      readonly body: string;
      readonly malformed: string | undefined;
    };

const V2_MAX_PAGES = 50;

export function langfuseAuthorization(publicKey: string, secretKey: string): string {
  return `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}`;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// The API's JSON is read as untrusted: an entry without a string id and type is left out
// (String() on `{"toString": 1}` would throw).
function normalise(entry: unknown, hasRootFlag: boolean): LangfuseApiObservation | undefined {
  if (!isObj(entry)) return undefined;
  const o = entry;
  const id = str(o['id']);
  const type = str(o['type']);
  if (id === undefined || id === '' || type === undefined) return undefined;
  const parentId = str(o['parentObservationId']);
  const usage = isObj(o['usageDetails'])
    ? Object.fromEntries(
        Object.entries(o['usageDetails']).filter(
          (e): e is [string, number] => typeof e[1] === 'number',
        ),
      )
    : undefined;
  return {
    id,
    parentId,
    // v2 says whether an observation is a logical root; v1 (ObservationsView) has no such field.
    isRoot:
      hasRootFlag && typeof o['isRootObservation'] === 'boolean'
        ? o['isRootObservation']
        : parentId === undefined,
    name: str(o['name']) ?? '',
    type: type.toUpperCase(),
    level: str(o['level']) ?? 'DEFAULT',
    model: str(o['providedModelName']) ?? str(o['model']),
    usage,
    statusMessage: str(o['statusMessage']),
    startTime: str(o['startTime']),
    endTime: str(o['endTime']),
  };
}

// undici hides the useful part ("ECONNREFUSED") in `cause`.
function networkCause(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown }) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

async function getJson(
  api: LangfuseApi,
  url: string,
): Promise<{ status?: number; error?: string; text: string; json?: unknown }> {
  try {
    const response = await fetch(url, {
      headers: { authorization: api.authorization },
      signal: AbortSignal.timeout(api.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  } catch (error) {
    return { error: networkCause(error), text: '' };
  }
}

/**
 * Reads one trace's observations: `GET /api/public/v2/observations` (paged by cursor), or with
 * `v1` the older `GET /api/public/traces/{traceId}`. Never throws: a failed read returns the
 * status, network error or what was malformed.
 */
export async function fetchLangfuseObservations(
  api: LangfuseApi,
  traceId: string,
  version: 'v2' | 'v1' = 'v2',
): Promise<LangfuseObservationsResult> {
  const base = api.baseUrl.replace(/\/+$/, '');
  const failed = (
    url: string,
    res: { status?: number; error?: string; text: string },
    malformed?: string,
  ): LangfuseObservationsResult => ({
    url,
    status: res.status,
    error: res.error,
    body: res.text.slice(0, 300),
    malformed,
  });
  if (version === 'v1') {
    const url = `${base}/api/public/traces/${encodeURIComponent(traceId)}`;
    const res = await getJson(api, url);
    if (res.status !== 200) return failed(url, res);
    const body = isObj(res.json) ? res.json : {};
    if (!Array.isArray(body['observations'])) return failed(url, res, 'no observations array');
    return {
      ...normaliseAll(body['observations'] as unknown[], false),
      endpoint: 'GET /api/public/traces/{traceId}',
      name: str(body['name']),
      htmlPath: str(body['htmlPath']),
    };
  }
  const data: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const query = new URLSearchParams({ traceId, fields: 'core,basic,model,usage', limit: '100' });
    if (cursor) query.set('cursor', cursor);
    const url = `${base}/api/public/v2/observations?${query}`;
    const res = await getJson(api, url);
    if (res.status !== 200) return failed(url, res);
    const body = isObj(res.json) ? res.json : {};
    if (!Array.isArray(body['data'])) return failed(url, res, 'no data array');
    data.push(...(body['data'] as unknown[]));
    cursor = (isObj(body['meta']) ? str(body['meta']['cursor']) : undefined) || undefined;
    pages++;
  } while (cursor && pages < V2_MAX_PAGES);
  return {
    ...normaliseAll(data, true),
    endpoint: 'GET /api/public/v2/observations',
    name: undefined,
    htmlPath: undefined,
  };
}

function normaliseAll(
  entries: readonly unknown[],
  hasRootFlag: boolean,
): { observations: LangfuseApiObservation[]; invalid: number } {
  const observations: LangfuseApiObservation[] = [];
  for (const entry of entries) {
    const o = normalise(entry, hasRootFlag);
    if (o !== undefined) observations.push(o);
  }
  return { observations, invalid: entries.length - observations.length };
}

function isoMs(value: string | undefined): number {
  const ms = Date.parse(value ?? '');
  return Number.isFinite(ms) ? ms : 0;
}

/** The tree `renderTraceTree` prints, from API observations. Pure. */
export function langfuseTreeFromObservations(
  traceId: string,
  list: readonly LangfuseApiObservation[],
  traceName?: string,
): LangfuseTraceTree {
  const nodes: TreeObservation[] = list.map((o) => {
    const startTimeMs = isoMs(o.startTime);
    const endTimeMs = o.endTime ? isoMs(o.endTime) : startTimeMs;
    return {
      id: o.id,
      traceId,
      parentId: o.parentId,
      name: o.name,
      type: o.type.toLowerCase(),
      level: o.level,
      isRoot: o.isRoot,
      startTimeMs,
      endTimeMs,
      durationMs: Math.max(0, endTimeMs - startTimeMs),
      model: o.model,
      usage: o.usage,
      input: undefined,
      output: undefined,
      statusMessage: o.statusMessage,
      serviceName: undefined,
      scopeName: undefined,
      attributes: {},
      children: [],
    };
  });
  nodes.sort((a, b) => a.startTimeMs - b.startTimeMs);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const roots: TreeObservation[] = [];
  const dangling: TreeObservation[] = [];
  for (const node of nodes) {
    const parent = node.parentId === undefined ? undefined : byId.get(node.parentId);
    if (node.isRoot) roots.push(node);
    else if (parent) parent.children.push(node);
    else dangling.push(node);
  }
  return {
    traceId,
    name: traceName ?? roots[0]?.name ?? '(no root)',
    roots,
    dangling,
    observations: nodes,
    input: undefined,
    output: undefined,
    metadata: {},
    tags: [],
    ...timeSpan(nodes),
  };
}
