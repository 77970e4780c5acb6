import {
  fetchLangfuseObservations,
  langfuseTreeFromObservations,
} from '@lakehouse/langfuse-processor';
import type { LangfuseApi } from '@lakehouse/langfuse-processor';
import type { TraceLookup, TraceSource } from './trace-source.js';

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
    const invalid =
      got.invalid > 0
        ? `${got.invalid} observation(s) Langfuse returned have no string id or type and are not shown`
        : undefined;
    if (got.observations.length === 0)
      return {
        tree: undefined,
        source,
        link,
        note: invalid ?? 'Langfuse has no observations of this trace (yet)',
      };
    return {
      tree: langfuseTreeFromObservations(traceId, got.observations, got.name),
      source: `${source} (${got.endpoint})`,
      link,
      note: invalid,
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
