import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { RosterLogger } from '../src/index.js';

/** A fresh temp dir and its remover. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'roster-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A logger that records what it is given. */
export function recordingLogger(): RosterLogger & {
  warnings: { message: string; meta?: Record<string, unknown> }[];
  infos: string[];
} {
  const warnings: { message: string; meta?: Record<string, unknown> }[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn(message, meta) {
      warnings.push(meta === undefined ? { message } : { message, meta });
    },
    info(message) {
      infos.push(message);
    },
  };
}

/** Runs one SQL statement in a throwaway in-memory DuckDB. */
export async function runSql(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      await connection.run(sql);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
