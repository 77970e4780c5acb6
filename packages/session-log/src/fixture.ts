import type {
  AttemptVerdict,
  FinalVerdict,
  SessionAttemptRecord,
  SessionRecord,
} from './session-record.js';

/** Thrown by {@link parseSessionFixture}; the message names the offending field. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

const FINAL_VERDICTS: readonly string[] = ['accepted', 'max_iter_exhausted', 'infra_error'];
const ATTEMPT_VERDICTS: readonly string[] = [
  'accepted',
  'validation_failed',
  'no_json',
  'infra_error',
];
const FIXTURE_KEYS: readonly string[] = [
  'session_id',
  'kind',
  'model',
  'provider',
  'prompt',
  'iterations',
  'max_iterations',
  'final_verdict',
  'attempts',
  'artifact',
  'grounded_in_roster',
  'duration_ms',
];
const ATTEMPT_KEYS: readonly string[] = ['iteration', 'verdict_kind', 'error', 'span_id'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function need<T>(ok: boolean, field: string, expected: string, value: unknown): T {
  if (!ok) throw new FixtureError(`field "${field}": expected ${expected}, got ${describe(value)}`);
  return value as T;
}

function requireKey(object: Record<string, unknown>, key: string, where: string): unknown {
  if (!Object.hasOwn(object, key)) throw new FixtureError(`missing field "${where}${key}"`);
  return object[key];
}

function string(object: Record<string, unknown>, key: string, where = ''): string {
  const value = requireKey(object, key, where);
  return need<string>(typeof value === 'string', where + key, 'a string', value);
}

function integer(object: Record<string, unknown>, key: string, where = ''): number {
  const value = requireKey(object, key, where);
  return need<number>(Number.isSafeInteger(value), where + key, 'an integer', value);
}

function rejectUnknown(
  object: Record<string, unknown>,
  known: readonly string[],
  where: string,
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new FixtureError(`unknown field "${where}${key}"`);
  }
}

function parseAttempt(raw: unknown, i: number): SessionAttemptRecord {
  const where = `attempts[${i}].`;
  const item = need<Record<string, unknown>>(isObject(raw), `attempts[${i}]`, 'an object', raw);
  rejectUnknown(item, ATTEMPT_KEYS, where);
  const iteration = integer(item, 'iteration', where);
  const verdictKind = string(item, 'verdict_kind', where);
  if (!ATTEMPT_VERDICTS.includes(verdictKind)) {
    throw new FixtureError(
      `field "${where}verdict_kind": unknown verdict ${JSON.stringify(verdictKind)}`,
    );
  }
  const attempt: SessionAttemptRecord = { iteration, verdictKind: verdictKind as AttemptVerdict };
  if (item['error'] != null) attempt.error = string(item, 'error', where);
  if (item['span_id'] != null) attempt.spanId = string(item, 'span_id', where);
  return attempt;
}

/**
 * Validates a parity fixture (the row's fields minus schema/timestamp/daemon, snake_case) and
 * returns the record with the given timestamp and daemon. Throws FixtureError naming the problem.
 */
export function parseSessionFixture(
  input: unknown,
  timestamp: string,
  daemon: string,
): SessionRecord {
  if (!isObject(input))
    throw new FixtureError(`fixture must be a JSON object, got ${describe(input)}`);
  rejectUnknown(input, FIXTURE_KEYS, '');
  // Checked in row order, so the first problem named is the first one in the row.
  const sessionId = string(input, 'session_id');
  const kind = string(input, 'kind');
  const model = string(input, 'model');
  const provider = string(input, 'provider');
  const prompt = string(input, 'prompt');
  const iterations = integer(input, 'iterations');
  const maxIterations = integer(input, 'max_iterations');
  const finalVerdict = string(input, 'final_verdict');
  if (!FINAL_VERDICTS.includes(finalVerdict)) {
    throw new FixtureError(
      `field "final_verdict": unknown verdict ${JSON.stringify(finalVerdict)}`,
    );
  }
  const rawAttempts = requireKey(input, 'attempts', '');
  const attemptList = need<unknown[]>(
    Array.isArray(rawAttempts),
    'attempts',
    'an array',
    rawAttempts,
  );
  const attempts = attemptList.map(parseAttempt);
  const grounded = requireKey(input, 'grounded_in_roster', '');
  const groundedInRoster = need<boolean | null>(
    grounded === null || typeof grounded === 'boolean',
    'grounded_in_roster',
    'a boolean or null',
    grounded,
  );
  const record: SessionRecord = {
    sessionId,
    timestamp,
    daemon,
    kind,
    model,
    provider,
    prompt,
    iterations,
    maxIterations,
    finalVerdict: finalVerdict as FinalVerdict,
    attempts,
    groundedInRoster,
    durationMs: integer(input, 'duration_ms'),
  };
  // null and absent both mean "no artifact" (Go's nil map, serde's Option::None).
  const artifact = input['artifact'];
  if (artifact !== undefined && artifact !== null) {
    record.artifact = need<Record<string, unknown>>(
      isObject(artifact),
      'artifact',
      'an object',
      artifact,
    );
  }
  return record;
}
