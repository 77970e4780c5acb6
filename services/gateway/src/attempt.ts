import type { Context } from '@opentelemetry/api';
import { extractJsonObject } from './extract-json.js';
import { HopError } from './hop-client.js';
import type { HopClient } from './hop-client.js';
import type { IterateRequest } from './iterate-request.js';
import type { AttemptOutcome } from './iterate-types.js';
import { validationFeedback } from './prompt.js';

/**
 * One generate → extract → validate attempt with `prompt`; both hops carry the span in `ctx`. A failed hop is an `infra_error`
 * outcome; anything else that throws (a bug) propagates.
 */
export async function runAttempt(
  hops: HopClient,
  req: IterateRequest,
  prompt: string,
  ctx: Context,
): Promise<AttemptOutcome> {
  let raw: string | null = null;
  try {
    raw = await hops.chat(req, prompt, ctx);
    const artifact = extractJsonObject(raw);
    if (artifact === undefined) {
      return { verdict: 'no_json', raw, error: 'no JSON object found in the response' };
    }
    const checked = await hops.validate(req, artifact, ctx);
    if (checked.ok) return { verdict: 'accepted', raw, artifact, report: checked.report };
    const messages = checked.errors.map((e) =>
      typeof e?.message === 'string' ? e.message : String(e),
    );
    return {
      verdict: 'validation_failed',
      raw,
      error: messages.join('; '),
      feedback: validationFeedback(messages.map((message) => ({ message }))),
    };
  } catch (err) {
    if (!(err instanceof HopError)) throw err;
    const outcome: AttemptOutcome = { verdict: 'infra_error', raw, error: err.message };
    if (err.callerStatus !== undefined) outcome.callerStatus = err.callerStatus;
    return outcome;
  }
}
