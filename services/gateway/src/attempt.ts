import type { Context } from '@opentelemetry/api';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { boundText } from '@lakehouse/telemetry';
import { extractJson } from './extract-json.js';
import { HopError } from './hop-client.js';
import type { HopClient } from './hop-client.js';
import type { IterateRequest } from './iterate-request.js';
import type { AttemptOutcome } from './iterate-types.js';
import { validationFeedback } from './prompt.js';
import type { ValidationIssue } from './validators/types.js';

/**
 * One generate → extract → validate attempt with `prompt`; both hops carry the span in `ctx`.
 * A failed hop is an `infra_error` outcome; anything else that throws (a bug) propagates.
 */
export async function runAttempt(
  hops: HopClient,
  req: IterateRequest,
  prompt: string,
  ctx: Context,
): Promise<AttemptOutcome> {
  let raw: string | null = null;
  let cut: { rawTruncatedChars?: number } = {};
  try {
    const reply = await hops.chat(req, prompt, ctx);
    // The whole reply is searched; only its beginning is kept (history, spans, the 422 body).
    ({ raw, cut } = keptRaw(reply));
    const found = extractJson(reply);
    // The reason never quotes the reply: it is its own summary (content capture off).
    if (!found.ok)
      return { verdict: 'no_json', raw, error: found.reason, summary: found.reason, ...cut };
    const checked = await hops.validate(req, found.source, ctx);
    if (checked.ok) {
      const { object: artifact, source: artifactJson } = found;
      return { verdict: 'accepted', raw, artifact, artifactJson, report: checked.report, ...cut };
    }
    const messages = checked.errors.map((e) =>
      typeof e?.message === 'string' ? e.message : String(e),
    );
    return {
      verdict: 'validation_failed',
      raw,
      // Messages quote model output (a key it echoed as a candidate id): masked like hop errors.
      error: defaultMask(messages.join('; ')),
      summary: issueSummary(checked.errors),
      feedback: validationFeedback(messages.map((message) => ({ message }))),
      ...cut,
    };
  } catch (err) {
    if (!(err instanceof HopError)) throw err;
    const outcome: AttemptOutcome = {
      verdict: 'infra_error',
      raw,
      error: err.message,
      summary: err.summary,
      ...cut,
    };
    if (err.callerStatus !== undefined) outcome.callerStatus = err.callerStatus;
    return outcome;
  }
}

/** Longest part of a model reply an attempt keeps (UTF-16 units); the rest is counted. */
const MAX_RAW_CHARS = 65_536;

function keptRaw(reply: string): { raw: string; cut: { rawTruncatedChars?: number } } {
  if (reply.length <= MAX_RAW_CHARS) return { raw: reply, cut: {} };
  let keep = MAX_RAW_CHARS;
  const last = reply.charCodeAt(keep - 1);
  // Never keep a high surrogate without its low half.
  if (last >= 0xd800 && last <= 0xdbff) keep -= 1;
  return { raw: reply.slice(0, keep), cut: { rawTruncatedChars: reply.length - keep } };
}

/** `validation failed: 2 consistency, 1 completeness`: the errors' categories, no texts. */
function issueSummary(errors: readonly ValidationIssue[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) {
    const category = typeof e?.category === 'string' ? e.category : 'unknown';
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const parts = [...counts].map(([category, n]) => `${n} ${boundText(category, 32)}`);
  return `validation failed: ${parts.join(', ')}`;
}
