/** Value of the `schema` key and the log record's event name. */
export const SESSION_RECORD_SCHEMA = 'session.iterate.v1';

/** Prompts are cut to this many Unicode code points before they are written (SPEC §5). */
export const MAX_PROMPT_CODE_POINTS = 4000;

/** Outcome of one generate → validate attempt. */
export type AttemptVerdict = 'accepted' | 'validation_failed' | 'no_json' | 'infra_error';

/** Outcome of a whole iterate session. */
export type FinalVerdict = 'accepted' | 'max_iter_exhausted' | 'infra_error';

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
  artifact?: Record<string, unknown>;
  groundedInRoster: boolean | null;
  durationMs: number;
}

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
function int(value: number): string {
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

const MAX_DEPTH = 512;

interface HasToJSON {
  toJSON(key: string): unknown;
}

// Encodes an arbitrary JSON-like value with object keys in code point order at every depth.
// Returns undefined for values JSON.stringify would skip (undefined, functions, symbols).
function encodeValue(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return str(value);
    case 'number':
      // NaN/Infinity are not JSON; Go refuses them and serde_json's Value cannot hold them.
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
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
  if (depth > MAX_DEPTH) throw new TypeError('artifact nests too deep (cycle?)');
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

function encodeObject(object: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(object);
  // Sort the raw keys first; a lone surrogate sorts like the U+FFFD it becomes. Artifacts'
  // keys usually arrive sorted already, and checking is cheaper than sorting.
  if (!isSorted(keys)) keys.sort(compareKeys);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const encoded = encodeValue(object[key], depth + 1);
    if (encoded === undefined) continue;
    out += (first ? '' : ',') + keyLiteral(key) + ':' + encoded;
    first = false;
  }
  return out + '}';
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if (compareKeys(keys[i - 1] as string, keys[i] as string) > 0) return false;
  }
  return true;
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
  if (attempt.error != null) out += ',"error":' + str(attempt.error);
  if (attempt.spanId != null) out += ',"span_id":' + str(attempt.spanId);
  return out + '}';
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
 * Go (SetEscapeHTML(false)) and serde_json for the same data. Pure; throws only on a cyclic
 * or absurdly deep artifact.
 */
export function encodeSessionRecord(record: SessionRecord): string {
  return encodeSessionRow(record, record.timestamp, record.daemon);
}

/**
 * {@link encodeSessionRecord} with the producer-owned fields given apart, so the session log
 * does not copy every record to add them. Internal to the package.
 */
export function encodeSessionRow(
  record: Omit<SessionRecord, 'timestamp' | 'daemon'>,
  timestamp: string,
  daemon: string,
): string {
  let out =
    K_HEAD +
    str(record.sessionId) +
    K_TIMESTAMP +
    str(timestamp) +
    K_DAEMON +
    str(daemon) +
    K_KIND +
    str(record.kind) +
    K_MODEL +
    str(record.model) +
    K_PROVIDER +
    str(record.provider) +
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
  for (let i = 0; i < attempts.length; i++) {
    if (i > 0) out += ',';
    out += encodeAttempt(attempts[i] as SessionAttemptRecord);
  }
  if (record.artifact != null) {
    out += K_ARTIFACT + encodeObject(record.artifact, 0) + K_GROUNDED;
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
