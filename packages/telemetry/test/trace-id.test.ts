import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyTraceIdHeader,
  parseTraceIdHeader,
  randomSpanId,
  randomTraceId,
} from '../src/index.js';

const VALID = '0af7651916cd43dd8448eb211c80319c';

describe('parseTraceIdHeader', () => {
  it('accepts 32 hex in any case and returns lowercase', () => {
    assert.equal(parseTraceIdHeader(VALID), VALID);
    assert.equal(parseTraceIdHeader(VALID.toUpperCase()), VALID);
    assert.equal(parseTraceIdHeader('0aF7651916Cd43dd8448eB211c80319C'), VALID);
  });

  it('accepts a UUID with dashes removed', () => {
    assert.equal(parseTraceIdHeader('0af76519-16cd-43dd-8448-eb211c80319c'), VALID);
    assert.equal(parseTraceIdHeader('0AF76519-16CD-43DD-8448-EB211C80319C'), VALID);
  });

  it('rejects all zeros (hex and UUID form)', () => {
    assert.deepEqual(classifyTraceIdHeader('0'.repeat(32)), { ok: false, reason: 'all_zeros' });
    assert.equal(parseTraceIdHeader('00000000-0000-0000-0000-000000000000'), undefined);
  });

  it('rejects wrong lengths, non-hex, misplaced dashes', () => {
    assert.deepEqual(classifyTraceIdHeader('a'.repeat(31)), { ok: false, reason: 'wrong_length' });
    assert.deepEqual(classifyTraceIdHeader('a'.repeat(33)), { ok: false, reason: 'wrong_length' });
    assert.deepEqual(classifyTraceIdHeader('g'.repeat(32)), { ok: false, reason: 'non_hex' });
    assert.deepEqual(classifyTraceIdHeader(`${VALID.slice(0, 31)}-`), {
      ok: false,
      reason: 'wrong_length',
    });
    assert.equal(parseTraceIdHeader('0af7651916cd-43dd-8448-eb211c80319c'), undefined);
    assert.equal(parseTraceIdHeader(`${VALID}, ${VALID}`), undefined);
  });

  it('rejects control characters (CRLF injection) and values over 64 bytes', () => {
    assert.deepEqual(classifyTraceIdHeader(`${VALID}\r\nSet-Cookie: x=1`), {
      ok: false,
      reason: 'control_chars',
    });
    assert.deepEqual(classifyTraceIdHeader(`${VALID}\u0000`), {
      ok: false,
      reason: 'control_chars',
    });
    assert.deepEqual(classifyTraceIdHeader('a'.repeat(10 * 1024)), {
      ok: false,
      reason: 'too_long',
    });
    // 22 three-byte characters: 22 code units but 66 bytes.
    assert.deepEqual(classifyTraceIdHeader('\u20ac'.repeat(22)), { ok: false, reason: 'too_long' });
  });

  it('rejects non-strings: arrays, numbers, undefined; and empty values', () => {
    assert.deepEqual(classifyTraceIdHeader([VALID]), { ok: false, reason: 'not_string' });
    assert.equal(parseTraceIdHeader(42), undefined);
    assert.equal(parseTraceIdHeader(undefined), undefined);
    assert.deepEqual(classifyTraceIdHeader(''), { ok: false, reason: 'empty' });
  });

  it('random ids are valid lowercase hex', () => {
    assert.match(randomTraceId(), /^[0-9a-f]{32}$/);
    assert.match(randomSpanId(), /^[0-9a-f]{16}$/);
    assert.notEqual(randomTraceId(), randomTraceId());
  });
});
