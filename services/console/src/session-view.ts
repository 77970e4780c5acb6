import type { DuckDBConnection } from '@duckdb/node-api';
import { formatBytes } from './console-limits.js';
import type { ConsoleLimits } from './console-limits.js';
import type { OneAtATime } from './one-at-a-time.js';
import { sessionDetail, unreadDetail } from './session-detail.js';
import type { SessionDetail } from './session-detail.js';
import { sessionRows } from './session-list.js';
import type { SessionListRow } from './session-list.js';
import type { SessionStore } from './session-store.js';
import type { TraceSource } from './trace-source.js';
import { boundedTree } from './tree-view.js';
import type { TreeView } from './tree-view.js';

/** One session's tree as a page shows it, or why there is none. */
export interface TraceLookupView {
  readonly tree: TreeView | undefined;
  readonly source: string;
  readonly note: string | undefined;
  readonly link: string | undefined;
}

/** Everything one session's page (or `/api/sessions/{id}`) shows; bounded by the limits. */
export interface SessionView {
  readonly sessionId: string;
  readonly rows: ReadonlyArray<{ readonly row: SessionListRow; readonly detail: SessionDetail }>;
  /** Rows in the log that carry this session id, shown or not. */
  readonly rowsTotal: number;
  readonly trace: TraceLookupView;
}

/**
 * Loads one session: its first rows from the table, each read back from the log while the page's
 * read-back budget lasts, and its tree cut to the limits. Heavy reads go through `heavy`.
 */
export async function loadSessionView(
  c: DuckDBConnection,
  deps: { store: SessionStore; traces: TraceSource; heavy: OneAtATime; limits: ConsoleLimits },
  sessionId: string,
): Promise<SessionView> {
  const { store, traces, heavy, limits } = deps;
  const found = await sessionRows(c, sessionId, limits.rowsPerSession);
  const rows = await heavy.run(async () => {
    let budget = limits.readBackBytes;
    const out: Array<{ row: SessionListRow; detail: SessionDetail }> = [];
    for (const row of found.rows) {
      const bytes = store.lineBytes(row.seq);
      if (bytes > budget) {
        out.push({
          row,
          detail: unreadDetail(
            `not read back: this row is ${formatBytes(bytes)} and a page reads back at most ${formatBytes(limits.readBackBytes)} of the log`,
          ),
        });
        continue;
      }
      budget -= bytes;
      const raw = await store.readRow(row.seq, sessionId);
      out.push({
        row,
        detail:
          raw === undefined
            ? unreadDetail('the row could not be read back from the log')
            : sessionDetail(raw, limits.attemptsShown),
      });
    }
    return out;
  });
  const lookup = await heavy.run(async () => {
    const found = await traces.lookup(sessionId);
    // Only the bounded view leaves this function: the full tree is dropped here.
    return {
      source: found.source,
      note: found.note,
      link: found.link,
      tree:
        found.tree === undefined
          ? undefined
          : boundedTree(found.tree, limits.treeNodes, limits.treeDepth),
    };
  });
  return { sessionId, rows, rowsTotal: found.total, trace: lookup };
}
