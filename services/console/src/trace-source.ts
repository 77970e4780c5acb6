import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  buildLangfuseTrees,
  fetchLangfuseObservations,
  langfuseTreeFromObservations,
} from '@lakehouse/langfuse-processor';
import type { LangfuseApi, LangfuseTraceTree } from '@lakehouse/langfuse-processor';

/** One session's tree, or why there is none. */
export interface TraceLookup {
  readonly tree: LangfuseTraceTree | undefined;
  /** Where the tree was looked for (a file path or a Langfuse URL). */
  readonly source: string;
  /** Why there is no tree, or what is incomplete about it. */
  readonly note: string | undefined;
  /** The trace in Langfuse's UI, when Langfuse is configured. */
  readonly link: string | undefined;
}

/** Where the console finds trees. */
export interface TraceSource {
  readonly description: string;
  lookup(traceId: string): Promise<TraceLookup>;
  close(): Promise<void>;
}

const TRACE_ID_IN_LINE = /"traceId":"([0-9a-fA-F]{32})"/g;
const MAX_LINE_BYTES = 32 * 1024 * 1024;
const MAX_LINES_PER_TRACE = 1000;
const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Follows the offline OTLP/JSON trace file by offset, indexing which lines hold spans of which
 * trace, so a session's tree is read from a few lines instead of the whole file. Lines appended
 * later are picked up on the next lookup; a torn last line waits; a replaced or truncated file
 * is indexed again. Read only; regular files only.
 */
export class TraceFileSource implements TraceSource {
  private readonly _path: string;
  private _index = new Map<string, number[]>();
  private _offset = 0;
  private _fileId: string | undefined;
  private _skipping = false; // inside a line longer than MAX_LINE_BYTES
  private _refreshing: Promise<void> | undefined;

  constructor(path: string) {
    this._path = path;
  }

  get description(): string {
    return `trace file ${this._path}`;
  }

  async lookup(traceId: string): Promise<TraceLookup> {
    const base = { source: this._path, link: undefined };
    try {
      this._refreshing ??= this._refresh().finally(() => (this._refreshing = undefined));
      await this._refreshing;
    } catch (error) {
      return { ...base, tree: undefined, note: `cannot read the trace file: ${errorText(error)}` };
    }
    const offsets = this._index.get(traceId.toLowerCase()) ?? [];
    if (offsets.length === 0)
      return { ...base, tree: undefined, note: 'no spans of this trace in the trace file (yet)' };
    const requests: unknown[] = [];
    const handle = await open(this._path, 'r');
    try {
      for (const offset of offsets.slice(0, MAX_LINES_PER_TRACE)) {
        const line = await readLine(handle, offset);
        try {
          requests.push(JSON.parse(line) as unknown);
        } catch {
          // a line that is not JSON adds nothing to the tree
        }
      }
    } finally {
      await handle.close();
    }
    const tree = buildLangfuseTrees(requests).find((t) => t.traceId === traceId.toLowerCase());
    const note =
      offsets.length > MAX_LINES_PER_TRACE
        ? `only the first ${MAX_LINES_PER_TRACE} of ${offsets.length} lines of this trace are shown`
        : undefined;
    return { ...base, tree, note: tree ? note : 'the trace file has no spans of this trace' };
  }

  async close(): Promise<void> {
    await this._refreshing?.catch(() => {});
  }

  private async _refresh(): Promise<void> {
    let info;
    try {
      info = await stat(this._path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!info.isFile()) throw new Error(`${this._path} is not a regular file`);
    const fileId = `${info.dev}:${info.ino}`;
    if (fileId !== this._fileId || info.size < this._offset) {
      this._index = new Map();
      this._offset = 0;
      this._skipping = false;
      this._fileId = fileId;
    }
    if (info.size <= this._offset) return;
    const handle = await open(this._path, 'r');
    try {
      let pos = this._offset;
      let pending = Buffer.alloc(0);
      let pendingStart = pos;
      const buffer = Buffer.alloc(CHUNK_BYTES);
      while (pos < info.size) {
        const { bytesRead } = await handle.read(
          buffer,
          0,
          Math.min(CHUNK_BYTES, info.size - pos),
          pos,
        );
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        let from = 0;
        for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
          const line =
            pending.length > 0
              ? Buffer.concat([pending, chunk.subarray(from, nl)])
              : chunk.subarray(from, nl);
          if (!this._skipping) this._indexLine(line.toString('utf8'), pendingStart);
          this._skipping = false;
          pending = Buffer.alloc(0);
          from = nl + 1;
          pendingStart = pos + from;
          this._offset = pendingStart;
        }
        if (!this._skipping) pending = Buffer.concat([pending, chunk.subarray(from)]);
        if (pending.length > MAX_LINE_BYTES) {
          this._skipping = true;
          pending = Buffer.alloc(0);
        }
        pos += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }

  private _indexLine(line: string, offset: number): void {
    const seen = new Set<string>();
    for (const match of line.matchAll(TRACE_ID_IN_LINE)) {
      const id = (match[1] ?? '').toLowerCase();
      if (seen.has(id)) continue;
      seen.add(id);
      const list = this._index.get(id);
      if (list) list.push(offset);
      else this._index.set(id, [offset]);
    }
  }
}

async function readLine(handle: FileHandle, offset: number): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = offset;
  const buffer = Buffer.alloc(1024 * 1024);
  while (total < MAX_LINE_BYTES) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
    if (bytesRead === 0) break;
    const nl = buffer.subarray(0, bytesRead).indexOf(0x0a);
    parts.push(Buffer.from(buffer.subarray(0, nl >= 0 ? nl : bytesRead)));
    total += nl >= 0 ? nl : bytesRead;
    if (nl >= 0) break;
    pos += bytesRead;
  }
  return Buffer.concat(parts).toString('utf8');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads trees from Langfuse's public API (the same endpoints `npm run smoke` reads), and links
 * each session to its trace page in Langfuse's UI.
 */
export class LangfuseApiSource implements TraceSource {
  private readonly _api: LangfuseApi;
  private _v1Only = false;
  private _projectId: Promise<string | undefined> | undefined;

  constructor(api: LangfuseApi) {
    this._api = { ...api, baseUrl: api.baseUrl.replace(/\/+$/, '') };
  }

  get description(): string {
    return `Langfuse at ${this._api.baseUrl}`;
  }

  async lookup(traceId: string): Promise<TraceLookup> {
    const source = this._api.baseUrl;
    let got = await fetchLangfuseObservations(this._api, traceId, this._v1Only ? 'v1' : 'v2');
    if (got.observations === undefined && got.status === 404 && !this._v1Only) {
      // Older servers have no v2 observations API; the v1 trace endpoint answers there.
      this._v1Only = true;
      got = await fetchLangfuseObservations(this._api, traceId, 'v1');
    }
    const projectId = await this._project();
    const link = projectId
      ? `${this._api.baseUrl}/project/${encodeURIComponent(projectId)}/traces/${encodeURIComponent(traceId)}`
      : undefined;
    if (got.observations === undefined) {
      const why = got.error ?? got.malformed ?? `answered ${got.status ?? '?'} ${got.body}`;
      return { tree: undefined, source, link, note: `Langfuse: ${got.url} ${why}` };
    }
    if (got.observations.length === 0)
      return {
        tree: undefined,
        source,
        link,
        note: 'Langfuse has no observations of this trace (yet)',
      };
    return {
      tree: langfuseTreeFromObservations(traceId, got.observations, got.name),
      source: `${source} (${got.endpoint})`,
      link,
      note: undefined,
    };
  }

  async close(): Promise<void> {}

  // GET /api/public/projects names the key's project, which the UI's trace URL needs; a failed
  // read is tried again on the next lookup.
  private _project(): Promise<string | undefined> {
    this._projectId ??= (async () => {
      try {
        const response = await fetch(`${this._api.baseUrl}/api/public/projects`, {
          headers: { authorization: this._api.authorization },
          signal: AbortSignal.timeout(this._api.timeoutMs ?? 10_000),
        });
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
        const id = body.data?.[0]?.id;
        return typeof id === 'string' ? id : undefined;
      } catch {
        return undefined;
      }
    })();
    const pending = this._projectId;
    void pending.then((id) => {
      if (id === undefined && this._projectId === pending) this._projectId = undefined;
    });
    return pending;
  }
}
