import {
  MAX_ERROR_CODE_POINTS,
  MAX_LABEL_CODE_POINTS,
  MAX_PROMPT_CODE_POINTS,
} from '@lakehouse/session-log';
import { clipText } from './clip-text.js';

/** Characters of an artifact shown (pretty-printed). */
const MAX_ARTIFACT_CHARS = 20_000;

/** One attempt as a page shows it: every field text, clipped. */
export interface AttemptView {
  readonly iteration: string;
  readonly verdict: string;
  readonly error: string;
  readonly spanId: string;
}

/**
 * What a page shows of one row read back from the log: strings clipped to the session log's own
 * caps (a row of ours is never cut), at most `attemptsShown` attempts. `unread` says why the row
 * was not read back (then only the indexed fields are known).
 */
export interface SessionDetail {
  readonly unread: string | undefined;
  readonly model: string;
  readonly provider: string;
  readonly timestamp: string;
  readonly daemon: string;
  readonly prompt: string;
  readonly attempts: readonly AttemptView[];
  /** Attempts in the row, shown or not. */
  readonly attemptsTotal: number;
  readonly artifact: string | undefined;
}

const text = (v: unknown, max: number): string =>
  clipText(typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v), max);

/** A row that was not read back, and why. */
export function unreadDetail(why: string): SessionDetail {
  return {
    unread: why,
    model: '',
    provider: '',
    timestamp: '',
    daemon: '',
    prompt: '',
    attempts: [],
    attemptsTotal: 0,
    artifact: undefined,
  };
}

/** The bounded view of a raw row (any JSON value; a non-object shows as empty). Pure. */
export function sessionDetail(raw: unknown, attemptsShown: number): SessionDetail {
  const r = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const attempts = Array.isArray(r['attempts']) ? (r['attempts'] as unknown[]) : [];
  return {
    unread: undefined,
    model: text(r['model'], MAX_LABEL_CODE_POINTS),
    provider: text(r['provider'], MAX_LABEL_CODE_POINTS),
    timestamp: text(r['timestamp'], MAX_LABEL_CODE_POINTS),
    daemon: text(r['daemon'], MAX_LABEL_CODE_POINTS),
    prompt: text(r['prompt'], MAX_PROMPT_CODE_POINTS),
    attempts: attempts.slice(0, attemptsShown).map((a) => {
      const o = (a !== null && typeof a === 'object' ? a : {}) as Record<string, unknown>;
      return {
        iteration: text(o['iteration'], 20),
        verdict: text(o['verdict_kind'], MAX_LABEL_CODE_POINTS),
        error: text(o['error'], MAX_ERROR_CODE_POINTS),
        spanId: text(o['span_id'], MAX_LABEL_CODE_POINTS),
      };
    }),
    attemptsTotal: attempts.length,
    artifact:
      r['artifact'] !== undefined
        ? clipText(JSON.stringify(r['artifact'], null, 2), MAX_ARTIFACT_CHARS)
        : undefined,
  };
}
