import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Package root (packages/session-log), resolved from dist/test/. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Repository root, where parity/ lives. */
export const REPO_DIR = fileURLToPath(new URL('../../../../', import.meta.url));
export const FIXTURES_DIR = `${REPO_DIR}parity/fixtures`;
export const EXPECTED_DIR = `${REPO_DIR}parity/expected`;
export const SCHEMA_PATH = `${PACKAGE_DIR}schema/session.iterate.v1.schema.json`;
export const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * A session log's text without its empty lines: every write starts with "\n" (so no row is
 * glued onto another producer's fragment), and readers skip the empty lines that leaves.
 */
export function readLog(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line + '\n')
    .join('');
}
