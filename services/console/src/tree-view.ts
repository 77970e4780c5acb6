import type { LangfuseTraceTree, TreeObservation } from '@lakehouse/langfuse-processor';
import { MAX_LABEL_CODE_POINTS } from '@lakehouse/session-log';
import { clipText } from './clip-text.js';

/** One observation as a page shows it, strings clipped. */
export interface TreeNodeView {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly level: string;
  readonly durationMs: number;
  readonly model: string | undefined;
  readonly tokens: { readonly input?: number; readonly output?: number } | undefined;
  readonly statusMessage: string | undefined;
  readonly children: TreeNodeView[];
}

/**
 * The part of a trace a page shows: the first `treeNodes` observations in tree order, at most
 * `treeDepth` deep, and the counts of what the trace holds.
 */
export interface TreeView {
  readonly traceId: string;
  /** Observations in the trace, and how many of them `top` holds. */
  readonly observations: number;
  readonly shown: number;
  /** Observations Langfuse treats as roots (should be one), and those whose parent is missing. */
  readonly roots: number;
  readonly dangling: number;
  /** The root first, then other roots and dangling observations, as Langfuse shows them. */
  readonly top: readonly TreeNodeView[];
  /** The caps `top` was cut to. */
  readonly maxNodes: number;
  readonly maxDepth: number;
}

/** `tree` cut to at most `maxNodes` observations, `maxDepth` levels deep. Pure. */
export function boundedTree(tree: LangfuseTraceTree, maxNodes: number, maxDepth: number): TreeView {
  let budget = maxNodes;
  // Recursion at most maxDepth deep; a node is shown only with all its ancestors.
  const take = (nodes: readonly TreeObservation[], depth: number): TreeNodeView[] => {
    const out: TreeNodeView[] = [];
    for (const o of nodes) {
      if (budget === 0 || depth >= maxDepth) break;
      budget--;
      const children = take(o.children, depth + 1);
      const input = o.usage?.['input'];
      const output = o.usage?.['output'];
      out.push({
        // Clipped as a row's span_id is, so an attempt still links to its node.
        id: clipText(o.id, MAX_LABEL_CODE_POINTS),
        name: clipText(o.name, 200),
        type: clipText(o.type, 40),
        level: clipText(o.level, 40),
        durationMs: o.durationMs,
        model: o.model === undefined ? undefined : clipText(o.model, 120),
        tokens: input === undefined && output === undefined ? undefined : { input, output },
        statusMessage: o.statusMessage === undefined ? undefined : clipText(o.statusMessage, 2000),
        children,
      });
    }
    return out;
  };
  const [root, ...otherRoots] = tree.roots;
  const top = take([...(root ? [root] : []), ...otherRoots, ...tree.dangling], 0);
  return {
    traceId: tree.traceId,
    observations: tree.observations.length,
    shown: maxNodes - budget,
    roots: tree.roots.length,
    dangling: tree.dangling.length,
    top,
    maxNodes,
    maxDepth,
  };
}
