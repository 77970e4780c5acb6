import { JsonCursor, JsonSyntaxError } from './json-cursor.js';
import type { LosslessJson } from './json-cursor.js';
import type { JsonNumber } from './serde-number.js';
import { ATTEMPT_VERDICTS, FINAL_VERDICTS } from './session-record.js';
import type {
  AttemptVerdict,
  FinalVerdict,
  EncodableSessionRecord,
  SessionAttemptRecord,
} from './session-record.js';

/** Thrown by {@link parseSessionFixture}; the message names the offending field. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

const U32_MAX = 4_294_967_295n;
const U64_MAX = 18_446_744_073_709_551_615n;

// What a field may hold, as the Rust peer's serde types say (parity/peers/rust/src/main.rs).
type FieldType =
  | 'string'
  | 'default-string'
  | 'u32'
  | 'u64'
  | 'final-verdict'
  | 'attempt-verdict'
  | 'attempts'
  | 'option-string'
  | 'option-bool'
  | 'option-value';

// Fields in declaration order (serde also accepts a struct written as an array in this order).
const RECORD_FIELDS: readonly (readonly [string, FieldType])[] = [
  ['schema', 'default-string'],
  ['session_id', 'string'],
  ['timestamp', 'default-string'],
  ['daemon', 'default-string'],
  ['kind', 'string'],
  ['model', 'string'],
  ['provider', 'string'],
  ['prompt', 'string'],
  ['iterations', 'u32'],
  ['max_iterations', 'u32'],
  ['final_verdict', 'final-verdict'],
  ['attempts', 'attempts'],
  ['artifact', 'option-value'],
  ['grounded_in_roster', 'option-bool'],
  ['duration_ms', 'u64'],
];
const ATTEMPT_FIELDS: readonly (readonly [string, FieldType])[] = [
  ['iteration', 'u32'],
  ['verdict_kind', 'attempt-verdict'],
  ['error', 'option-string'],
  ['span_id', 'option-string'],
];

type FieldValue = string | number | bigint | boolean | null | SessionAttemptRecord[] | LosslessJson;

function unsigned(cursor: JsonCursor, field: string, max: bigint): number | bigint {
  const c = cursor.peek();
  if (c !== 0x2d && (c < 0x30 || c > 0x39))
    throw new FixtureError(`field "${field}": expected an integer`);
  const number: JsonNumber = cursor.readNumber();
  if (number.kind !== 'u64' || BigInt(number.text) > max) {
    throw new FixtureError(
      `field "${field}": expected an integer in 0..${max}, got ${number.text}`,
    );
  }
  const value = BigInt(number.text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function string(cursor: JsonCursor, field: string): string {
  if (cursor.peek() !== 0x22) throw new FixtureError(`field "${field}": expected a string`);
  return cursor.readString();
}

// A serde unit-variant enum: "name", or the externally tagged form {"name": null}.
function variant(cursor: JsonCursor, field: string, variants: readonly string[]): string {
  let name: string | undefined;
  if (cursor.peek() === 0x22) {
    name = cursor.readString();
  } else if (cursor.open() === '{') {
    cursor.enter();
    name = cursor.nextKey(true);
    if (name === undefined) throw new FixtureError(`field "${field}": expected a variant`);
    if (variants.includes(name) && !cursor.takeNull()) {
      throw new FixtureError(`field "${field}": a unit variant takes null`);
    }
    if (cursor.nextKey(false) !== undefined)
      throw new FixtureError(`field "${field}": one variant only`);
    cursor.leave();
  } else {
    throw new FixtureError(`field "${field}": expected a string`);
  }
  if (!variants.includes(name)) {
    throw new FixtureError(`field "${field}": unknown verdict ${JSON.stringify(name)}`);
  }
  return name;
}

function readField(cursor: JsonCursor, field: string, type: FieldType): FieldValue {
  if (cursor.peek() === -1) cursor.fail('EOF while parsing a value');
  switch (type) {
    case 'string':
    case 'default-string':
      return string(cursor, field);
    case 'u32':
      return unsigned(cursor, field, U32_MAX);
    case 'u64':
      return unsigned(cursor, field, U64_MAX);
    case 'final-verdict':
      return variant(cursor, field, FINAL_VERDICTS);
    case 'attempt-verdict':
      return variant(cursor, field, ATTEMPT_VERDICTS);
    case 'option-string':
      return cursor.takeNull() ? null : string(cursor, field);
    case 'option-bool': {
      if (cursor.takeNull()) return null;
      const value = cursor.readValue();
      if (typeof value !== 'boolean')
        throw new FixtureError(`field "${field}": expected a boolean or null`);
      return value;
    }
    case 'option-value':
      return cursor.takeNull() ? null : cursor.readValue();
    case 'attempts': {
      if (cursor.open() !== '[') throw new FixtureError(`field "${field}": expected an array`);
      cursor.enter();
      const attempts: SessionAttemptRecord[] = [];
      for (let more = cursor.nextElement(true); more; more = cursor.nextElement(false)) {
        attempts.push(
          toAttempt(readStruct(cursor, `attempts[${attempts.length}]`, ATTEMPT_FIELDS)),
        );
      }
      cursor.leave();
      return attempts;
    }
  }
}

// A serde-derived struct: an object (unknown keys ignored, duplicate known keys refused, missing
// Option fields None) or an array of exactly every field in order.
function readStruct(
  cursor: JsonCursor,
  where: string,
  fields: readonly (readonly [string, FieldType])[],
): Map<string, FieldValue> {
  const values = new Map<string, FieldValue>();
  const prefix = where === '' ? '' : `${where}.`;
  const shape = cursor.open();
  if (shape === undefined) {
    cursor.readValue(); // a syntax error is reported as one
    throw new FixtureError(
      `${where === '' ? 'fixture' : `field "${where}"`} must be a JSON object`,
    );
  }
  cursor.enter();
  if (shape === '[') {
    for (const [name, type] of fields) {
      if (!cursor.nextElement(values.size === 0)) {
        throw new FixtureError(`${where || 'fixture'}: array form needs ${fields.length} elements`);
      }
      values.set(name, readField(cursor, prefix + name, type));
    }
    if (cursor.nextElement(false))
      throw new FixtureError(`${where || 'fixture'}: too many elements`);
  } else {
    for (let key = cursor.nextKey(true); key !== undefined; key = cursor.nextKey(false)) {
      const field = fields.find(([name]) => name === key);
      if (field === undefined) {
        cursor.skipValue();
        continue;
      }
      if (values.has(key)) throw new FixtureError(`duplicate field "${prefix}${key}"`);
      values.set(key, readField(cursor, prefix + key, field[1]));
    }
    for (const [name, type] of fields) {
      if (values.has(name)) continue;
      if (type.startsWith('option-')) values.set(name, null);
      else if (type === 'default-string') values.set(name, '');
      else throw new FixtureError(`missing field "${prefix}${name}"`);
    }
  }
  cursor.leave();
  return values;
}

function toAttempt(values: Map<string, FieldValue>): SessionAttemptRecord {
  const attempt: SessionAttemptRecord = {
    iteration: values.get('iteration') as number,
    verdictKind: values.get('verdict_kind') as AttemptVerdict,
  };
  const error = values.get('error');
  const spanId = values.get('span_id');
  if (typeof error === 'string') attempt.error = error;
  if (typeof spanId === 'string') attempt.spanId = spanId;
  return attempt;
}

/**
 * Reads a parity fixture (the row's fields minus schema/timestamp/daemon, snake_case) exactly
 * as the Rust peer's serde types do: what serde_json accepts is accepted, what it refuses is
 * refused, and artifact numbers keep serde_json's text. Returns the record with the given
 * timestamp and daemon. Throws FixtureError naming the problem.
 */
export function parseSessionFixture(
  text: string,
  timestamp: string,
  daemon: string,
): EncodableSessionRecord {
  const cursor = new JsonCursor(text, true);
  let values: Map<string, FieldValue>;
  try {
    values = readStruct(cursor, '', RECORD_FIELDS);
    cursor.end();
  } catch (error) {
    if (error instanceof JsonSyntaxError)
      throw new FixtureError(`not valid JSON: ${error.message}`);
    throw error;
  }
  const record: EncodableSessionRecord = {
    sessionId: values.get('session_id') as string,
    timestamp,
    daemon,
    kind: values.get('kind') as string,
    model: values.get('model') as string,
    provider: values.get('provider') as string,
    prompt: values.get('prompt') as string,
    iterations: values.get('iterations') as number,
    maxIterations: values.get('max_iterations') as number,
    finalVerdict: values.get('final_verdict') as FinalVerdict,
    attempts: values.get('attempts') as SessionAttemptRecord[],
    groundedInRoster: values.get('grounded_in_roster') as boolean | null,
    durationMs: values.get('duration_ms') as number | bigint,
  };
  // null and absent both mean "no artifact" (serde's Option::None).
  const artifact = values.get('artifact');
  if (artifact !== null && artifact !== undefined) record.artifact = artifact;
  return record;
}
