import type { ValidationIssue } from './validators/types.js';

/** Verdict of one attempt (SPEC §5 `verdict_kind`). */
export type AttemptVerdict = 'accepted' | 'validation_failed' | 'no_json' | 'infra_error';

/** Verdict of a session (SPEC §5 `final_verdict`). */
export type FinalVerdict = 'accepted' | 'max_iter_exhausted' | 'infra_error';

/** The `validation` part of a 200: the validate hop's report. */
export interface AcceptedReport {
  ok: true;
  warnings: unknown[];
  grounded_in_roster: boolean | null;
}

/**
 * What one attempt came to, before any bookkeeping. `error` may quote model output and contract
 * values; `summary` says the same without them (what spans carry with content capture off).
 */
export type AttemptOutcome = (
  | {
      verdict: 'accepted';
      raw: string;
      artifact: Record<string, unknown>;
      /** The JSON text the artifact was parsed from (the session row keeps its numbers exactly). */
      artifactJson: string;
      report: AcceptedReport;
    }
  | { verdict: 'validation_failed'; raw: string; error: string; summary: string; feedback: string }
  | { verdict: 'no_json'; raw: string; error: string; summary: string }
  | {
      verdict: 'infra_error';
      raw: string | null;
      error: string;
      summary: string;
      /** chatd's 4xx status when it refused the request as the caller's mistake: answer 400, not 502. */
      callerStatus?: number;
    }
) & {
  /** Characters of the reply cut off `raw` (past MAX_RAW_CHARS); the whole reply was searched. */
  rawTruncatedChars?: number;
};

/** The validate hop's answer: accepted with its report, or the validator's errors. */
export type ValidateHopResult =
  { ok: true; report: AcceptedReport } | { ok: false; errors: ValidationIssue[] };

/**
 * One spent attempt: the single list behind the response's `history` and the row's `attempts`.
 * `error` says why it was not accepted; `spanId` is its attempt span's (when traced).
 */
export interface Attempt {
  iteration: number;
  verdict: AttemptVerdict;
  raw: string | null;
  /** Characters of the reply cut off `raw` (see {@link AttemptOutcome}). */
  rawTruncatedChars?: number;
  error?: string;
  /** `error` without model output or contract values (see {@link AttemptOutcome}). */
  summary?: string;
  spanId?: string;
}

/** Runs one attempt with `prompt`; the tracing layer wraps it in an attempt span. */
export type AttemptRunner = (
  prompt: string,
  iteration: number,
) => Promise<{ outcome: AttemptOutcome; spanId?: string | undefined }>;

/** What a session came to; the route turns it into an HTTP status and body. */
export interface IterateResult {
  finalVerdict: FinalVerdict;
  attempts: Attempt[];
  /** The accepted artifact and its report (final verdict `accepted` only). */
  accepted?: { artifact: Record<string, unknown>; artifactJson: string; report: AcceptedReport };
  /** chatd refused the request as the caller's mistake (its 4xx status). */
  callerStatus?: number;
  /** Something unexpected threw: the session is an infra_error and the caller answers 500. */
  crash?: unknown;
}
