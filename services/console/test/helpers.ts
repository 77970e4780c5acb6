import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeSessionRecord, formatSessionTimestamp } from '@lakehouse/session-log';
import type { SessionRecord } from '@lakehouse/session-log';
import { SessionStore } from '../src/session-store.js';
import type { SessionStoreOptions } from '../src/session-store.js';

export const START_MS = Date.parse('2026-11-20T00:00:00Z');

/** A session record with overrides; timestamps one minute apart by `i`. */
export function record(i: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const accepted = (overrides.finalVerdict ?? 'accepted') === 'accepted';
  return {
    sessionId: i.toString(16).padStart(32, '0'),
    timestamp: formatSessionTimestamp(START_MS + i * 60_000),
    daemon: 'gateway',
    kind: 'fill',
    model: 'clean',
    provider: 'sim',
    prompt: `Staff 3 loaders, session ${i}.`,
    iterations: 1,
    maxIterations: 3,
    finalVerdict: 'accepted',
    attempts: [{ iteration: 0, verdictKind: 'accepted', spanId: i.toString(16).padStart(16, '0') }],
    ...(accepted ? { artifact: { fills: [{ candidate_id: 'W-1', name: 'Ana Ruiz' }] } } : {}),
    groundedInRoster: true,
    durationMs: 10 + i,
    ...overrides,
  };
}

/** A fill that spent `iterations` attempts on phantoms and was given up (max_iter_exhausted). */
export function exhaustedRecord(i: number, iterations = 3): SessionRecord {
  return record(i, {
    finalVerdict: 'max_iter_exhausted',
    iterations,
    groundedInRoster: null,
    attempts: Array.from({ length: iterations }, (_, k) => ({
      iteration: k,
      verdictKind: 'validation_failed' as const,
      error: `candidate_id W-9${i}${k} not in roster`,
    })),
  });
}

export const line = (r: SessionRecord): string => encodeSessionRecord(r);

/** A fresh temp dir removed by the returned cleanup. */
export function tempDir(): { dir: string; file: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lakehouse-console-'));
  return {
    dir,
    file: path.join(dir, 'sessions.jsonl'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `fn` with a loaded store over a fresh log holding `text`; closes and removes both. */
export async function withLog(
  text: string,
  fn: (store: SessionStore, t: ReturnType<typeof tempDir>) => Promise<void>,
  options: Partial<SessionStoreOptions> = {},
): Promise<void> {
  const t = tempDir();
  try {
    writeFileSync(t.file, text);
    await withStore(t.file, (store) => fn(store, t), options);
  } finally {
    t.cleanup();
  }
}

/** Runs `fn` with a loaded store over `file` (which need not exist yet), then closes it. */
export async function withStore(
  file: string,
  fn: (store: SessionStore) => Promise<void>,
  options: Partial<SessionStoreOptions> = {},
): Promise<void> {
  const store = await loadedStore(file, options);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * A store over `file` that reads the newest 1 KiB line by line and hands the older lines to
 * DuckDB's reader, which waits until `release()`; not refreshed yet, the caller closes it.
 */
export async function heldColdStart(
  file: string,
  options: Partial<SessionStoreOptions> = {},
): Promise<{ store: SessionStore; release: () => void }> {
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const store = await SessionStore.create({
    path: file,
    bulkMinBytes: 0,
    tailBytes: 1024,
    beforeBulkLoad: () => held,
    ...options,
  });
  return { store, release };
}

/** A store over `file`, refreshed and settled; the caller closes it. */
export async function loadedStore(
  file: string,
  options: Partial<SessionStoreOptions> = {},
): Promise<SessionStore> {
  const store = await SessionStore.create({ path: file, ...options });
  await store.refresh();
  await store.settled();
  return store;
}

/** Every row of the sessions table in seq order, as plain values. */
export async function tableRows(store: SessionStore): Promise<Array<Record<string, unknown>>> {
  const c = await store.connect();
  try {
    const reader = await c.runAndReadAll('SELECT * FROM sessions ORDER BY seq');
    return reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [
            k,
            typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v,
          ]),
        ),
      );
  } finally {
    c.closeSync();
  }
}
