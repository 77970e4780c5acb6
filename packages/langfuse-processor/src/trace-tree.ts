import { LAKEHOUSE_ATTRIBUTES as LH, LANGFUSE_ATTRIBUTES as LF } from './attributes.js';
import { terminalSafe } from './terminal-safe.js';

/** One observation as Langfuse would store it, rebuilt from OTLP/JSON. */
export interface TreeObservation {
  readonly id: string;
  readonly traceId: string;
  /** The OTLP parent span id (kept for a marked root, where it points outside the trace). */
  readonly parentId: string | undefined;
  readonly name: string;
  /** Lower-case Langfuse observation type: span | generation | guardrail | ... */
  readonly type: string;
  readonly level: string;
  readonly isRoot: boolean;
  readonly startTimeMs: number;
  readonly endTimeMs: number;
  readonly durationMs: number;
  readonly model: string | undefined;
  readonly usage: Readonly<Record<string, number>> | undefined;
  readonly input: unknown;
  readonly output: unknown;
  readonly statusMessage: string | undefined;
  readonly serviceName: string | undefined;
  readonly scopeName: string | undefined;
  /** The span's attributes; null-prototype, so a key such as `__proto__` is one more attribute. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly children: TreeObservation[];
}

/** One Langfuse trace rebuilt from OTLP/JSON export requests. */
export interface LangfuseTraceTree {
  readonly traceId: string;
  /** Trace name: the root's `langfuse.trace.name`, else its span name. */
  readonly name: string;
  /** Observations Langfuse treats as roots (no parent, or `langfuse.internal.as_root`); should be one. */
  readonly roots: TreeObservation[];
  /** Non-root observations whose parent is not in the trace (Langfuse shows them at the top). */
  readonly dangling: TreeObservation[];
  readonly observations: TreeObservation[];
  readonly input: unknown;
  readonly output: unknown;
  readonly tags: string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly startTimeMs: number;
  readonly endTimeMs: number;
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** An OTLP/JSON span or trace id as lower-case hex (base64, the protobuf JSON mapping, too). */
export function parseId(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  if (/^[0-9a-fA-F]+$/.test(v) && (v.length === 16 || v.length === 32)) return v.toLowerCase();
  const hex = Buffer.from(v, 'base64').toString('hex');
  return hex === '' || /^0+$/.test(hex) ? undefined : hex;
}

function parseNanosToMs(v: unknown): number {
  if (typeof v === 'string' && v !== '') return Number(BigInt(v) / 1000n) / 1000;
  if (typeof v === 'number') return v / 1e6;
  if (isObj(v) && typeof v['high'] === 'number' && typeof v['low'] === 'number') {
    const nanos = (BigInt(v['high']) << 32n) | BigInt(v['low'] >>> 0);
    return Number(nanos / 1000n) / 1000;
  }
  return 0;
}

function anyValue(v: unknown): unknown {
  if (!isObj(v)) return undefined;
  if ('stringValue' in v) return v['stringValue'];
  if ('boolValue' in v) return v['boolValue'];
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return Number(v['doubleValue']);
  if (isObj(v['arrayValue'])) return asArray(v['arrayValue']['values']).map(anyValue);
  if (isObj(v['kvlistValue'])) return keyValues(v['kvlistValue']['values']);
  return undefined;
}

// Keys are chosen by whoever wrote the span: on a plain object `__proto__` would replace the
// prototype (and what it holds would pass for attributes) and `constructor` would be inherited.
function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function keyValues(list: unknown): Record<string, unknown> {
  const out = emptyRecord<unknown>();
  for (const kv of asArray(list)) {
    if (isObj(kv) && typeof kv['key'] === 'string') out[kv['key']] = anyValue(kv['value']);
  }
  return out;
}

function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

// `String(v)` throws on a null-prototype object, or on one whose `toString` is not a function.
function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  return v !== null && typeof v === 'object' ? (JSON.stringify(v) ?? '') : String(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

// Mirrors Langfuse's ObservationTypeMapper order: explicit type, GenAI operation, model-based.
function observationType(attrs: Record<string, unknown>): string {
  const explicit = str(attrs[LF.OBSERVATION_TYPE]);
  if (explicit !== undefined) return explicit.toLowerCase();
  const op = str(attrs['gen_ai.operation.name']);
  if (
    op !== undefined &&
    ['chat', 'completion', 'text_completion', 'generate_content', 'generate'].includes(op)
  ) {
    return 'generation';
  }
  const modelKeys = [
    LF.OBSERVATION_MODEL,
    'gen_ai.request.model',
    'gen_ai.response.model',
    'llm.model_name',
    'model',
  ];
  return modelKeys.some((k) => str(attrs[k]) !== undefined) ? 'generation' : 'span';
}

function usageOf(attrs: Record<string, unknown>): Record<string, number> | undefined {
  const explicit = parseMaybeJson(attrs[LF.OBSERVATION_USAGE_DETAILS]);
  // fromEntries defines each key as its own (`__proto__` too); only numbers are read from it.
  if (isObj(explicit))
    return Object.fromEntries(
      Object.entries(explicit).filter((e): e is [string, number] => typeof e[1] === 'number'),
    );
  const input = attrs['gen_ai.usage.input_tokens'];
  const output = attrs['gen_ai.usage.output_tokens'];
  if (typeof input !== 'number' && typeof output !== 'number') return undefined;
  const out: Record<string, number> = {};
  if (typeof input === 'number') out['input'] = input;
  if (typeof output === 'number') out['output'] = output;
  return out;
}

/**
 * Rebuilds Langfuse trace trees from OTLP/JSON `ExportTraceServiceRequest` objects with
 * Langfuse's server rules: root = no parent or `langfuse.internal.as_root`; nesting by parent
 * span id; type and level from the `langfuse.*` attributes (GenAI/model fallbacks, status ERROR).
 * Pure; ignores malformed entries. Traces come back in order of first appearance.
 */
export function buildLangfuseTrees(exportRequests: readonly unknown[]): LangfuseTraceTree[] {
  const byTrace = new Map<string, TreeObservation[]>();
  for (const request of exportRequests) {
    if (!isObj(request)) continue;
    for (const rs of asArray(request['resourceSpans'])) {
      if (!isObj(rs)) continue;
      const resource = keyValues(isObj(rs['resource']) ? rs['resource']['attributes'] : undefined);
      for (const ss of asArray(rs['scopeSpans'])) {
        if (!isObj(ss)) continue;
        const scopeName = isObj(ss['scope']) ? str(ss['scope']['name']) : undefined;
        for (const span of asArray(ss['spans'])) {
          if (!isObj(span)) continue;
          const traceId = parseId(span['traceId']);
          const id = parseId(span['spanId']);
          if (traceId === undefined || id === undefined) continue;
          const parentId = parseId(span['parentSpanId']);
          const attrs = keyValues(span['attributes']);
          const status = isObj(span['status']) ? span['status'] : {};
          const startTimeMs = parseNanosToMs(span['startTimeUnixNano']);
          const endTimeMs = parseNanosToMs(span['endTimeUnixNano']);
          const level =
            str(attrs[LF.OBSERVATION_LEVEL]) ?? (status['code'] === 2 ? 'ERROR' : 'DEFAULT');
          const model =
            str(attrs[LF.OBSERVATION_MODEL]) ??
            str(attrs['gen_ai.response.model']) ??
            str(attrs['gen_ai.request.model']);
          const node: TreeObservation = {
            id,
            traceId,
            parentId,
            name: str(span['name']) ?? '',
            type: observationType(attrs),
            level,
            isRoot: parentId === undefined || isTrue(attrs[LF.AS_ROOT]),
            startTimeMs,
            endTimeMs,
            durationMs: Math.max(0, endTimeMs - startTimeMs),
            model,
            usage: usageOf(attrs),
            input: parseMaybeJson(attrs[LF.OBSERVATION_INPUT]),
            output: parseMaybeJson(attrs[LF.OBSERVATION_OUTPUT]),
            statusMessage: str(attrs[LF.OBSERVATION_STATUS_MESSAGE]) ?? str(status['message']),
            serviceName: str(resource['service.name']),
            scopeName,
            attributes: attrs,
            children: [],
          };
          const list = byTrace.get(traceId) ?? [];
          list.push(node);
          byTrace.set(traceId, list);
        }
      }
    }
  }

  const trees: LangfuseTraceTree[] = [];
  for (const [traceId, observations] of byTrace) {
    observations.sort((a, b) => a.startTimeMs - b.startTimeMs);
    const byId = new Map(observations.map((o) => [o.id, o]));
    const roots: TreeObservation[] = [];
    const dangling: TreeObservation[] = [];
    for (const o of observations) {
      if (o.isRoot) roots.push(o);
      else if (o.parentId !== undefined && byId.has(o.parentId))
        byId.get(o.parentId)?.children.push(o);
      // A session in a trace its caller chose hangs under the caller's span (not exported here);
      // Langfuse shows it at the top of the trace.
      else if (joinsCallerTrace(o)) roots.push(o);
      else dangling.push(o);
    }
    const root = roots[0];
    const rootAttrs = root?.attributes ?? {};
    const tagsValue = parseMaybeJson(rootAttrs[LF.TRACE_TAGS]);
    // Langfuse folds a root's observation metadata into its trace's.
    const metadata =
      parseMaybeJson(rootAttrs[LF.TRACE_METADATA]) ??
      parseMaybeJson(rootAttrs[LF.OBSERVATION_METADATA]);
    trees.push({
      traceId,
      name: str(rootAttrs[LF.TRACE_NAME]) ?? root?.name ?? '(no root)',
      roots,
      dangling,
      observations,
      input: parseMaybeJson(rootAttrs[LF.TRACE_INPUT]) ?? root?.input,
      output: parseMaybeJson(rootAttrs[LF.TRACE_OUTPUT]) ?? root?.output,
      tags: Array.isArray(tagsValue)
        ? tagsValue.map(asText)
        : typeof tagsValue === 'string'
          ? [tagsValue]
          : [],
      metadata: isObj(metadata) ? metadata : {},
      ...timeSpan(observations),
    });
  }
  return trees;
}

/**
 * The earliest start and latest end of `observations` (0 and 0 for none). A loop, not
 * `Math.min(...)`: spreading a 130,000-span trace into one call overflows the stack.
 */
export function timeSpan(observations: readonly TreeObservation[]): {
  startTimeMs: number;
  endTimeMs: number;
} {
  if (observations.length === 0) return { startTimeMs: 0, endTimeMs: 0 };
  let startTimeMs = Infinity;
  let endTimeMs = -Infinity;
  for (const o of observations) {
    if (o.startTimeMs < startTimeMs) startTimeMs = o.startTimeMs;
    if (o.endTimeMs > endTimeMs) endTimeMs = o.endTimeMs;
  }
  return { startTimeMs, endTimeMs };
}

function formatDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms > 0 && ms < 1) return '<1 ms';
  return `${Math.round(ms)} ms`;
}

function detail(o: TreeObservation): string {
  const parts: string[] = [];
  if (o.type === 'generation' && o.model !== undefined)
    parts.push(`model=${terminalSafe(o.model)}`);
  if (
    o.usage !== undefined &&
    (o.usage['input'] !== undefined || o.usage['output'] !== undefined)
  ) {
    parts.push(`tokens ${o.usage['input'] ?? '?'}→${o.usage['output'] ?? '?'}`);
  }
  if (o.level !== 'DEFAULT' && o.statusMessage !== undefined) {
    const msg =
      o.statusMessage.length > 80 ? `${o.statusMessage.slice(0, 77)}...` : o.statusMessage;
    parts.push(`"${terminalSafe(msg)}"`);
  }
  return parts.join(' ');
}

/** `renderTraceTree` prints observations at most this many levels below the top ones. */
export const MAX_RENDER_DEPTH = 64;

/**
 * Renders one trace as a terminal tree (name, type, level, duration, model/tokens), followed by
 * a warning listing dangling parents when there are any. Observations deeper than
 * {@link MAX_RENDER_DEPTH} levels are counted in a note, not printed (a caller can chain any
 * number of spans; each level widens every line below it). Strings from spans are printed
 * terminal-safe (control, C1 and bidi characters as visible escapes). Pure.
 */
export function renderTraceTree(tree: LangfuseTraceTree): string {
  const rows: Array<{ label: string; o: TreeObservation }> = [];
  // The root is the header line; its children are the tree. Extra roots and dangling nodes show
  // at the top level, as Langfuse shows them.
  const [root, ...otherRoots] = tree.roots;
  // Depth first with a stack of its own: a trace's depth is the caller's choice, not ours.
  const stack: Array<{ o: TreeObservation; prefix: string; last: boolean; depth: number }> = [];
  const pushChildren = (nodes: readonly TreeObservation[], prefix: string, depth: number): void => {
    for (let i = nodes.length - 1; i >= 0; i--)
      stack.push({ o: nodes[i] as TreeObservation, prefix, last: i === nodes.length - 1, depth });
  };
  pushChildren([...(root?.children ?? []), ...otherRoots, ...tree.dangling], '', 0);
  let deeper = 0;
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { o, prefix, last, depth } = top;
    if (depth >= MAX_RENDER_DEPTH) {
      deeper += subtreeSize(o);
      continue;
    }
    rows.push({ label: `${prefix}${last ? '└─ ' : '├─ '}${terminalSafe(o.name)}`, o });
    pushChildren(o.children, `${prefix}${last ? '   ' : '│  '}`, depth + 1);
  }
  let width = 0;
  for (const r of rows) width = Math.max(width, [...r.label].length);
  const verdict = str(tree.metadata['final_verdict']) ?? root?.level ?? '';
  const duration = root !== undefined ? root.durationMs : tree.endTimeMs - tree.startTimeMs;
  // A root that is not a plain span (e.g. a direct chatd call) shows its own type and details.
  const rootExtra =
    root !== undefined && root.type !== 'span'
      ? `  ${terminalSafe(root.type)}  ${detail(root)}`.trimEnd()
      : '';
  const lines = [
    `trace ${tree.traceId}  ${terminalSafe(tree.name)}  ${terminalSafe(verdict)}  ${formatDuration(duration)}${rootExtra}`,
  ];
  for (const { label, o } of rows) {
    const pad = ' '.repeat(width - [...label].length);
    const extra = detail(o);
    lines.push(
      `${label}${pad}  ${terminalSafe(o.type).padEnd(10)}  ${terminalSafe(o.level).padEnd(7)}  ${formatDuration(o.durationMs).padStart(8)}${extra !== '' ? `  ${extra}` : ''}`,
    );
  }
  if (deeper > 0)
    lines.push(
      `! ${deeper} observation${deeper === 1 ? '' : 's'} deeper than ${MAX_RENDER_DEPTH} levels not shown`,
    );
  if (tree.roots.length !== 1)
    lines.push(`! ${tree.roots.length} roots in this trace (expected exactly one)`);
  if (tree.dangling.length > 0) {
    lines.push(
      `! dangling parents: ${tree.dangling.map((o) => `${terminalSafe(o.name)} (${o.id}) -> ${o.parentId ?? '-'}`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

// Observations in the subtree under `o`, itself included; iterative like the walk.
function subtreeSize(o: TreeObservation): number {
  let n = 0;
  const stack = [o];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    n++;
    for (const child of next.children) stack.push(child);
  }
  return n;
}

function joinsCallerTrace(o: TreeObservation): boolean {
  const source = o.attributes[LH.TRACE_ID_SOURCE];
  return source === 'traceparent' || source === 'header';
}
