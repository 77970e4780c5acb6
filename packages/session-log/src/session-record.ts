/** Value of the `schema` key and the log record's event name. */
export const SESSION_RECORD_SCHEMA = 'session.iterate.v1';

import { readLosslessJson } from './json-cursor.js';
import { JsonNumber, formatF64 } from './serde-number.js';

/** Prompts are cut to this many Unicode code points before they are written (SPEC §5). */
export const MAX_PROMPT_CODE_POINTS = 4000;

/** Each attempt's `error` is cut to this many code points. */
export const MAX_ERROR_CODE_POINTS = 4000;

/** `session_id`, `kind`, `model`, `provider` and attempts' `span_id` are cut to this many code points. */
export const MAX_LABEL_CODE_POINTS = 256;

/** Only the first this many attempts are written. */
export const MAX_ATTEMPTS = 100;

/** An artifact whose encoding is longer than this many UTF-8 bytes is replaced by a marker. */
const MAX_ARTIFACT_BYTES = 262_144;

/** An artifact nested deeper than this many containers is replaced by a marker. */
export const MAX_ARTIFACT_DEPTH = 128;

/** Marker written instead of an artifact nested deeper than {@link MAX_ARTIFACT_DEPTH}. */
export const ARTIFACT_DEPTH_MARKER = `{"$truncated":{"cap":${MAX_ARTIFACT_DEPTH},"reason":"depth"}}`;

/** Marker written instead of an artifact encoded in more than {@link MAX_ARTIFACT_BYTES} bytes. */
function artifactSizeMarker(bytes: number): string {
  return `{"$truncated":{"bytes":${bytes},"cap":${MAX_ARTIFACT_BYTES},"reason":"size"}}`;
}

/** Every outcome of one generate → validate attempt, in the row's `verdict_kind`. */
export const ATTEMPT_VERDICTS = [
  'accepted',
  'validation_failed',
  'no_json',
  'infra_error',
] as const;

/** Outcome of one generate → validate attempt. */
export type AttemptVerdict = (typeof ATTEMPT_VERDICTS)[number];

/** Every outcome of a whole iterate session, in the row's `final_verdict`. */
export const FINAL_VERDICTS = ['accepted', 'max_iter_exhausted', 'infra_error'] as const;

/** Outcome of a whole iterate session. */
export type FinalVerdict = (typeof FINAL_VERDICTS)[number];

/** One attempt of a session; `error` and `spanId` are omitted from the row when undefined. */
export interface SessionAttemptRecord {
  iteration: number;
  verdictKind: AttemptVerdict;
  error?: string;
  spanId?: string;
}

/** One `session.iterate.v1` row in camelCase; the encoder maps it to the snake_case wire form. */
export interface SessionRecord {
  sessionId: string;
  timestamp: string;
  daemon: string;
  kind: string;
  model: string;
  provider: string;
  prompt: string;
  iterations: number;
  maxIterations: number;
  finalVerdict: FinalVerdict;
  attempts: readonly SessionAttemptRecord[];
  /** A JSON value (the gateway's accepted object); omitted from the row when undefined or null. */
  artifact?: unknown;
  /**
   * The JSON text `artifact` was parsed from, when known: its numbers are then written exactly
   * as serde_json writes them (12345678901234567891, -0.0, 1.0) instead of as JS doubles.
   */
  artifactJson?: string;
  groundedInRoster: boolean | null;
  durationMs: number;
}

/** What the encoder takes: a {@link SessionRecord}, or a parity fixture's u64 `duration_ms`. */
export type EncodableSessionRecord = Omit<SessionRecord, 'durationMs'> & {
  durationMs: number | bigint;
};

// Node 20 ships String.prototype.isWellFormed/toWellFormed, but lib es2023 does not type them.
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

// Lone surrogates become U+FFFD (raw), as Go does for invalid UTF-8 decoded from JSON;
// JSON.stringify would write `\udXXX` escapes that neither Go nor serde_json produce.
function wellFormed(text: string): string {
  const s = text as unknown as WellFormedString;
  return s.isWellFormed() ? text : s.toWellFormed();
}

// What JSON.stringify escapes in a well-formed string: quote, backslash, C0 controls.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** JSON string literal with the cross-runtime rules (no HTML escaping, raw UTF-8, U+FFFD). */
function str(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  // Fast path (most values): nothing JSON.stringify would escape, so quoting is byte-identical.
  if (!NEEDS_ESCAPE.test(text) && (text as unknown as WellFormedString).isWellFormed()) {
    return '"' + text + '"';
  }
  return JSON.stringify(wellFormed(text));
}

/** Integers without decimals: rounds, and writes 0 for non-finite input (never `null`). */
function int(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  return Number.isFinite(value) ? String(Math.round(value) || 0) : '0';
}

/**
 * Truncates `text` to at most `max` Unicode code points; never splits a surrogate pair.
 * Returns `text` itself when it is short enough. Pure; never throws.
 */
export function truncateCodePoints(text: string, max: number): string {
  // A string of n UTF-16 units holds at most n code points.
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let units = 0;
  let points = 0;
  const length = text.length;
  while (units < length && points < max) {
    const code = text.charCodeAt(units);
    if (code >= 0xd800 && code <= 0xdbff && units + 1 < length) {
      const next = text.charCodeAt(units + 1);
      units += next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    } else {
      units += 1;
    }
    points += 1;
  }
  return units >= length ? text : text.slice(0, units);
}

// Maps a UTF-16 code unit so that unit order equals code point (= UTF-8 byte) order:
// surrogates (code points >= U+10000) must sort after U+E000..U+FFFF.
function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Compares two strings by Unicode code points, which equals UTF-8 byte order (Go map keys,
 * serde_json's BTreeMap). JS's default sort compares UTF-16 units and differs above U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

interface HasToJSON {
  toJSON(key: string): unknown;
}

// Thrown inside the artifact encoder only; encodeArtifact turns it into the depth marker.
class TooDeep extends Error {}

// Encodes an arbitrary JSON-like value with object keys in code point order at every depth.
// Returns undefined for values JSON.stringify would skip (undefined, functions, symbols).
// `depth` counts containers from the artifact (1); past MAX_ARTIFACT_DEPTH it throws TooDeep,
// which also ends cycles.
function encodeValue(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return str(value);
    case 'number':
      // A JS number is written as serde_json writes the Value it would be: a safe integer as
      // an integer, anything else as an f64 (NaN/Infinity: null, as serde_json does).
      return Number.isSafeInteger(value) ? String(value) : formatF64(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return value.text;
  if (depth > MAX_ARTIFACT_DEPTH) throw new TooDeep();
  if (typeof (value as Partial<HasToJSON>).toJSON === 'function') {
    return encodeValue((value as HasToJSON).toJSON(''), depth + 1);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += encodeValue(value[i], depth + 1) ?? 'null';
    }
    return out + ']';
  }
  return encodeObject(value as Record<string, unknown>, depth);
}

// A number token that a JS double may not keep exactly: a fraction or exponent, `-0`, or 16+
// digits. Strings that merely look like one only cost the slower exact path.
const INEXACT_NUMBER = /[:,[]\s*(?:-0|-?\d+[.eE]|-?\d{16})/;

/**
 * The artifact as the row holds it: exact numbers from `source` when it has numbers a double
 * cannot keep, the depth and size markers past the caps. Never throws.
 */
function encodeArtifact(artifact: unknown, source: string | undefined): string {
  let encoded: string | undefined;
  try {
    if (source !== undefined && INEXACT_NUMBER.test(source)) {
      try {
        encoded = encodeValue(readLosslessJson(source), 1);
      } catch (error) {
        if (error instanceof TooDeep) throw error;
        encoded = undefined; // not the text JSON.parse read; fall back to the object
      }
    }
    encoded ??= encodeValue(artifact, 1) ?? 'null';
  } catch (error) {
    if (error instanceof TooDeep || error instanceof RangeError) return ARTIFACT_DEPTH_MARKER;
    return UNENCODABLE_MARKER;
  }
  // UTF-8 needs at most 3 bytes per UTF-16 unit: most artifacts skip the byte count.
  if (encoded.length * 3 > MAX_ARTIFACT_BYTES) {
    const bytes = Buffer.byteLength(encoded, 'utf8');
    if (bytes > MAX_ARTIFACT_BYTES) return artifactSizeMarker(bytes);
  }
  return encoded;
}

// An artifact whose toJSON or getter throws: the row still gets written.
const UNENCODABLE_MARKER = '{"$truncated":{"reason":"unencodable"}}';

function encodeObject(object: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(object);
  // Sort the raw keys first; a lone surrogate sorts like the U+FFFD it becomes (a stable sort:
  // keys that become the same keep their order). Artifacts' keys usually arrive sorted already,
  // and checking is cheaper than sorting.
  let order = keyOrder(keys);
  if (order === UNSORTED) {
    keys.sort(compareKeys);
    order = keyOrder(keys);
  }
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // Two keys that are one once well-formed ("\udc00" and "\ufffd"): serde_json's map keeps
    // the last of the keys it reads, so the row holds the last one's value, and one key.
    if (
      order === COLLIDING &&
      i + 1 < keys.length &&
      compareKeys(key, keys[i + 1] as string) === 0
    ) {
      continue;
    }
    const encoded = encodeValue(object[key], depth + 1);
    if (encoded === undefined) continue;
    out += (first ? '' : ',') + keyLiteral(key) + ':' + encoded;
    first = false;
  }
  return out + '}';
}

const SORTED = 0;
const COLLIDING = 1; // sorted, with neighbours that are one key once well-formed
const UNSORTED = 2;

function keyOrder(keys: readonly string[]): number {
  let order = SORTED;
  for (let i = 1; i < keys.length; i++) {
    const c = compareKeys(keys[i - 1] as string, keys[i] as string);
    if (c > 0) return UNSORTED;
    if (c === 0) order = COLLIDING;
  }
  return order;
}

// Artifact keys repeat row after row (`fills`, `candidate_id`, `name`): their literals are
// cached, up to a bound so that arbitrary keys cannot grow the cache without limit.
const KEY_LITERALS = new Map<string, string>();
const MAX_KEY_LITERALS = 1024;

function keyLiteral(key: string): string {
  let literal = KEY_LITERALS.get(key);
  if (literal === undefined) {
    literal = str(key);
    if (KEY_LITERALS.size < MAX_KEY_LITERALS && key.length <= 64) KEY_LITERALS.set(key, literal);
  }
  return literal;
}

function compareKeys(a: string, b: string): number {
  return compareCodePoints(wellFormed(a), wellFormed(b));
}

function encodeAttempt(attempt: SessionAttemptRecord): string {
  let out =
    '{"iteration":' + int(attempt.iteration) + ',"verdict_kind":' + str(attempt.verdictKind);
  if (attempt.error != null) {
    out += ',"error":' + str(truncateCodePoints(attempt.error, MAX_ERROR_CODE_POINTS));
  }
  if (attempt.spanId != null) {
    out += ',"span_id":' + str(truncateCodePoints(attempt.spanId, MAX_LABEL_CODE_POINTS));
  }
  return out + '}';
}

function label(text: string): string {
  return str(truncateCodePoints(text, MAX_LABEL_CODE_POINTS));
}

// Constant key fragments, precomputed once (pino habit): the row is built by concatenation.
const K_HEAD = '{"schema":' + JSON.stringify(SESSION_RECORD_SCHEMA) + ',"session_id":';
const K_TIMESTAMP = ',"timestamp":';
const K_DAEMON = ',"daemon":';
const K_KIND = ',"kind":';
const K_MODEL = ',"model":';
const K_PROVIDER = ',"provider":';
const K_PROMPT = ',"prompt":';
const K_ITERATIONS = ',"iterations":';
const K_MAX_ITERATIONS = ',"max_iterations":';
const K_FINAL_VERDICT = ',"final_verdict":';
const K_ATTEMPTS = ',"attempts":[';
const K_ARTIFACT = '],"artifact":';
const K_GROUNDED_NO_ARTIFACT = '],"grounded_in_roster":';
const K_GROUNDED = ',"grounded_in_roster":';
const K_DURATION = ',"duration_ms":';

/**
 * Encodes one row: exactly one line ending in "\n", keys in SPEC §5 order, byte-identical to
 * serde_json for the same data (see the README's divergences for Go), every field within the
 * row caps. Pure; never throws (an unencodable artifact becomes a marker).
 */
export function encodeSessionRecord(record: EncodableSessionRecord): string {
  return encodeSessionRow(record, record.timestamp, record.daemon);
}

/**
 * {@link encodeSessionRecord} with the producer-owned fields given apart, so the session log
 * does not copy every record to add them. Internal to the package.
 */
export function encodeSessionRow(
  record: Omit<EncodableSessionRecord, 'timestamp' | 'daemon'>,
  timestamp: string,
  daemon: string,
): string {
  let out =
    K_HEAD +
    label(record.sessionId) +
    K_TIMESTAMP +
    str(timestamp) +
    K_DAEMON +
    str(daemon) +
    K_KIND +
    label(record.kind) +
    K_MODEL +
    label(record.model) +
    K_PROVIDER +
    label(record.provider) +
    K_PROMPT +
    str(truncateCodePoints(record.prompt, MAX_PROMPT_CODE_POINTS)) +
    K_ITERATIONS +
    int(record.iterations) +
    K_MAX_ITERATIONS +
    int(record.maxIterations) +
    K_FINAL_VERDICT +
    str(record.finalVerdict) +
    K_ATTEMPTS;
  const attempts = record.attempts;
  const count = Math.min(attempts.length, MAX_ATTEMPTS);
  for (let i = 0; i < count; i++) {
    if (i > 0) out += ',';
    out += encodeAttempt(attempts[i] as SessionAttemptRecord);
  }
  if (record.artifact != null) {
    out += K_ARTIFACT + encodeArtifact(record.artifact, record.artifactJson) + K_GROUNDED;
  } else {
    out += K_GROUNDED_NO_ARTIFACT;
  }
  const grounded = record.groundedInRoster;
  out += (grounded === true ? 'true' : grounded === false ? 'false' : 'null') + K_DURATION;
  return out + int(record.durationMs) + '}\n';
}

/**
 * Formats epoch milliseconds (fractions allowed, e.g. performance.timeOrigin + performance.now())
 * as RFC 3339 UTC with 6 fractional digits: `2026-05-02T07:30:00.123456Z`.
 */
export function formatSessionTimestamp(epochMillis: number): string {
  const micros = Math.round(epochMillis * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  // Rows arrive many per second: the `YYYY-MM-DDTHH:mm:ss.` prefix is formatted once per second.
  if (seconds !== lastSecond) {
    lastSecond = seconds;
    lastPrefix = new Date(seconds * 1000).toISOString().slice(0, 20);
  }
  return lastPrefix + String(micros - seconds * 1_000_000).padStart(6, '0') + 'Z';
}

let lastSecond = Number.NaN;
let lastPrefix = '';
