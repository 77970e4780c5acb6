// Rebuilds Langfuse trees from received spans with Langfuse's server rules, independently of the
// processor under test: a root has no parent or carries langfuse.internal.as_root; nesting follows
// parent span ids; type and level come from the langfuse.* attributes (Langfuse's names, written
// out here as its server reads them). Our own vocabulary is imported, so a rename reaches this.
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import type { ReceivedSpan } from '@lakehouse/test-support';

export interface ObservationNode {
  readonly span: ReceivedSpan;
  readonly type: string;
  readonly level: string;
  readonly children: ObservationNode[];
}

export interface LangfuseTrace {
  readonly traceId: string;
  readonly roots: ObservationNode[];
  /** Observations whose parent id is set, not a marked root, not among the exported spans, and not joining a caller's trace. */
  readonly dangling: ReceivedSpan[];
  readonly all: ObservationNode[];
}

export function isRoot(span: ReceivedSpan): boolean {
  return !span.parentSpanId || span.attributes['langfuse.internal.as_root'] === true;
}

/**
 * A request's first span in a trace its caller chose: exported under a parent that is not ours
 * (Langfuse shows it at the top of the trace), never as the trace's root.
 */
export function joinsCallerTrace(span: ReceivedSpan): boolean {
  const source = span.attributes[LH.TRACE_ID_SOURCE];
  return source === 'traceparent' || source === 'header';
}

export function buildTraces(spans: readonly ReceivedSpan[]): Map<string, LangfuseTrace> {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    const list = byTrace.get(span.traceId) ?? [];
    list.push(span);
    byTrace.set(span.traceId, list);
  }
  const traces = new Map<string, LangfuseTrace>();
  for (const [traceId, list] of byTrace) {
    const nodes = new Map<string, ObservationNode>();
    for (const span of list) {
      nodes.set(span.spanId, {
        span,
        type: String(span.attributes['langfuse.observation.type'] ?? 'span'),
        level: String(span.attributes['langfuse.observation.level'] ?? 'DEFAULT'),
        children: [],
      });
    }
    const roots: ObservationNode[] = [];
    const dangling: ReceivedSpan[] = [];
    for (const node of nodes.values()) {
      if (isRoot(node.span)) {
        roots.push(node);
        continue;
      }
      const parent = nodes.get(node.span.parentSpanId ?? '');
      if (parent) parent.children.push(node);
      else if (joinsCallerTrace(node.span)) roots.push(node);
      else dangling.push(node.span);
    }
    for (const node of nodes.values())
      node.children.sort((a, b) => Number(a.span.startNanos - b.span.startNanos));
    traces.set(traceId, { traceId, roots, dangling, all: [...nodes.values()] });
  }
  return traces;
}
