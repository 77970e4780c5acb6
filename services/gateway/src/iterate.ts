import type { IterateRequest } from './iterate-request.js';
import type { Attempt, AttemptRunner, IterateResult } from './iterate-types.js';
import { appendFeedback, buildInitialPrompt, NO_JSON_FEEDBACK } from './prompt.js';

/**
 * The generate → validate → retry loop (SPEC §2): runs attempts until one is accepted, a hop
 * fails, or `maxIterations` is spent, appending each rejection's feedback to the prompt. Never
 * throws: an unexpected error ends the session as `infra_error` with `crash` set, and the attempt
 * it interrupted still counts.
 */
export async function iterate(
  req: IterateRequest,
  runAttempt: AttemptRunner,
): Promise<IterateResult> {
  const attempts: Attempt[] = [];
  try {
    let prompt = buildInitialPrompt(req.prompt, req.kind, req.context);
    for (let iteration = 0; iteration < req.maxIterations; iteration++) {
      let ran: Awaited<ReturnType<AttemptRunner>>;
      try {
        ran = await runAttempt(prompt, iteration);
      } catch (crash) {
        attempts.push({
          iteration,
          verdict: 'infra_error',
          raw: null,
          error: 'internal error',
          summary: 'internal error',
        });
        return { finalVerdict: 'infra_error', attempts, crash };
      }
      const { outcome, spanId } = ran;
      const attempt: Attempt = { iteration, verdict: outcome.verdict, raw: outcome.raw };
      if (outcome.rawTruncatedChars !== undefined)
        attempt.rawTruncatedChars = outcome.rawTruncatedChars;
      if (outcome.verdict !== 'accepted') {
        attempt.error = outcome.error;
        attempt.summary = outcome.summary;
      }
      if (spanId !== undefined) attempt.spanId = spanId;
      attempts.push(attempt);

      switch (outcome.verdict) {
        case 'accepted':
          return {
            finalVerdict: 'accepted',
            attempts,
            accepted: {
              artifact: outcome.artifact,
              artifactJson: outcome.artifactJson,
              report: outcome.report,
            },
          };
        case 'infra_error':
          return outcome.callerStatus === undefined
            ? { finalVerdict: 'infra_error', attempts }
            : { finalVerdict: 'infra_error', attempts, callerStatus: outcome.callerStatus };
        case 'no_json':
          prompt = appendFeedback(prompt, NO_JSON_FEEDBACK);
          break;
        case 'validation_failed':
          prompt = appendFeedback(prompt, outcome.feedback);
          break;
      }
    }
    return { finalVerdict: 'max_iter_exhausted', attempts };
  } catch (crash) {
    return { finalVerdict: 'infra_error', attempts, crash };
  }
}
