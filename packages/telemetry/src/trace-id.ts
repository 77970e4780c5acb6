import { randomBytes } from 'node:crypto';

/** Header carrying the trace id on requests and responses (lowercase, as sent on the wire). */
export const TRACE_ID_HEADER = 'x-lakehouse-trace-id';

/** Longest header value (in bytes) worth looking at; anything longer is rejected unread. */
export const MAX_TRACE_ID_HEADER_BYTES = 64;

/** Why an inbound trace header was rejected; used as the `reason` metric attribute. */
export type TraceHeaderRejectReason =
  | 'not_string'
  | 'empty'
  | 'too_long'
  | 'control_chars'
  | 'wrong_length'
  | 'non_hex'
  | 'all_zeros'
  | 'invalid';

/** Outcome of {@link classifyTraceIdHeader}: the normalised id, or the rejection reason. */
export type TraceIdHeaderResult =
  | { readonly ok: true; readonly traceId: string }
  | { readonly ok: false; readonly reason: TraceHeaderRejectReason };

const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEXISH = /^[0-9a-f-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const ALL_ZEROS = '0'.repeat(32);

/**
 * Classifies an inbound `x-lakehouse-trace-id` value. Accepts 32 hex or a dashed UUID in any
 * case and returns it as 32 lowercase hex; never throws, never returns the raw input.
 */
export function classifyTraceIdHeader(value: unknown): TraceIdHeaderResult {
  if (typeof value !== 'string') return { ok: false, reason: 'not_string' };
  // Cheap length guard first, so a 10 KB value is never scanned by the regexes.
  if (
    value.length > MAX_TRACE_ID_HEADER_BYTES ||
    Buffer.byteLength(value) > MAX_TRACE_ID_HEADER_BYTES
  ) {
    return { ok: false, reason: 'too_long' };
  }
  if (CONTROL.test(value)) return { ok: false, reason: 'control_chars' };
  const lower = value.trim().toLowerCase();
  if (lower.length === 0) return { ok: false, reason: 'empty' };
  let hex: string;
  if (lower.length === 36 && UUID.test(lower)) hex = lower.replaceAll('-', '');
  else if (HEX32.test(lower)) hex = lower;
  else if (!HEXISH.test(lower)) return { ok: false, reason: 'non_hex' };
  else return { ok: false, reason: 'wrong_length' };
  if (hex === ALL_ZEROS) return { ok: false, reason: 'all_zeros' };
  return { ok: true, traceId: hex };
}

/** Returns the normalised 32-lowercase-hex trace id carried by a header value, else undefined. */
export function parseTraceIdHeader(value: unknown): string | undefined {
  const result = classifyTraceIdHeader(value);
  return result.ok ? result.traceId : undefined;
}

/** A fresh random, valid (non-zero) 32-hex trace id. */
export function randomTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString('hex');
    if (id !== ALL_ZEROS) return id;
  }
}

/** A fresh random, valid (non-zero) 16-hex span id. */
export function randomSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}
