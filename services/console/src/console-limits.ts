import { MAX_ATTEMPTS } from '@lakehouse/session-log';

/**
 * What one page may show or read. Rows and traces are client-controlled (another producer can
 * write any row; a caller chooses its trace id and can grow one trace), so every count has a cap
 * and the page says what it left out.
 */
export interface ConsoleLimits {
  /** Attempts shown per row; the session log's own cap, so a row of ours always fits. */
  readonly attemptsShown: number;
  /** Rows shown for one session id (a reused trace id gives several). */
  readonly rowsPerSession: number;
  /** Bytes of the log read back per session page (rows past it show their indexed fields). */
  readonly readBackBytes: number;
  /** Observations shown per tree, and how deep. */
  readonly treeNodes: number;
  readonly treeDepth: number;
}

export const DEFAULT_CONSOLE_LIMITS: ConsoleLimits = {
  attemptsShown: MAX_ATTEMPTS,
  rowsPerSession: 20,
  readBackBytes: 4 * 1024 * 1024,
  treeNodes: 2000,
  treeDepth: 64,
};

/** A size as a page states it: `512 bytes`, `20 KiB`, `4 MiB`, `29.4 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}
