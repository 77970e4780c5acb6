/**
 * A JSON number kept as the exact text serde_json writes for it: u64/i64 digits as they came,
 * anything else as the f64 serde_json parses and prints. Produced by the lossless reader so a
 * number that cannot round-trip through a JS double (12345678901234567891, -0, 1.0) keeps its
 * bytes. Immutable.
 */
export class JsonNumber {
  readonly text: string;
  /** serde_json's `Number` variant: `u64`/`i64` are exact integers, `f64` everything else. */
  readonly kind: 'u64' | 'i64' | 'f64';

  constructor(text: string, kind: 'u64' | 'i64' | 'f64') {
    this.text = text;
    this.kind = kind;
  }

  toJSON(): number {
    return Number(this.text);
  }
}

/**
 * Formats a finite double the way serde_json (its `zmij` formatter) does: shortest round-trip
 * digits, fixed notation for decimal exponents -5..15 with a `.0` on integral values, otherwise
 * `d.ddde+NN` / `de-NN`. `-0` is `-0.0`. Non-finite values give `null` (serde_json's output).
 */
export function formatF64(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const exponential = Math.abs(value).toExponential();
  const e = exponential.indexOf('e');
  const digits = exponential.slice(0, e).replace('.', '');
  const exponent = Number(exponential.slice(e + 1));
  if (exponent >= -5 && exponent <= 15) {
    if (digits.length - 1 <= exponent) {
      return sign + digits + '0'.repeat(exponent + 1 - digits.length) + '.0';
    }
    if (exponent >= 0) {
      return sign + digits.slice(0, exponent + 1) + '.' + digits.slice(exponent + 1);
    }
    return sign + '0.' + '0'.repeat(-exponent - 1) + digits;
  }
  const mantissa = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  return sign + mantissa + 'e' + (exponent < 0 ? '-' : '+') + String(Math.abs(exponent));
}

const U64_MAX = 18_446_744_073_709_551_615n;
const I64_MIN_MAGNITUDE = 9_223_372_036_854_775_808n;
const I32_MAX = 2_147_483_647;
const POW10: readonly number[] = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));

/** Thrown for a number serde_json refuses (beyond the f64 range). */
class NumberOutOfRangeError extends Error {
  override readonly name = 'NumberOutOfRangeError';
}

// serde_json's default (not `float_roundtrip`) f64_from_parts: significand as f64, then one
// multiplication or division by a power of ten. Not always correctly rounded, and that is the
// point: the row must carry the double serde_json would hold.
function f64FromParts(positive: boolean, significand: bigint, exponent: number): number {
  let f = Number(significand);
  for (;;) {
    const pow = POW10[Math.abs(exponent)];
    if (pow !== undefined) {
      if (exponent >= 0) {
        f *= pow;
        if (!Number.isFinite(f)) throw new NumberOutOfRangeError('number out of range');
      } else {
        f /= pow;
      }
      break;
    }
    if (f === 0) break;
    if (exponent >= 0) throw new NumberOutOfRangeError('number out of range');
    f /= 1e308;
    exponent += 308;
  }
  return positive ? f : -f;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Returns the number as serde_json's `Value` holds and writes it, from a token that already
 * matches the JSON number grammar. Port of serde_json 1.0 `parse_integer` / `parse_decimal` /
 * `parse_exponent` (default features): digits beyond u64 are dropped into the exponent, and an
 * f64 that overflows is an error. Throws NumberOutOfRangeError.
 */
export function serdeJsonNumber(token: string): JsonNumber {
  const positive = token.charCodeAt(0) !== 0x2d;
  let i = positive ? 0 : 1;
  let significand = 0n;
  let exponent = 0;
  let overflowed = false;
  // Integer part: accumulate while significand * 10 + digit fits in a u64.
  while (i < token.length && isDigit(token.charCodeAt(i))) {
    const next = significand * 10n + BigInt(token.charCodeAt(i) - 0x30);
    if (overflowed || next > U64_MAX) {
      overflowed = true;
      exponent += 1;
    } else {
      significand = next;
    }
    i++;
  }
  const isInteger = i === token.length;
  if (isInteger && !overflowed) {
    if (positive) return new JsonNumber(token, 'u64');
    if (significand !== 0n && significand <= I64_MIN_MAGNITUDE) return new JsonNumber(token, 'i64');
    // `-0` and negatives below i64::MIN become an f64.
    return new JsonNumber(formatF64(-Number(significand)), 'f64');
  }
  if (token.charCodeAt(i) === 0x2e) {
    i++;
    let skipping = false;
    while (i < token.length && isDigit(token.charCodeAt(i))) {
      if (!skipping) {
        const next = significand * 10n + BigInt(token.charCodeAt(i) - 0x30);
        // Past u64, serde_json ignores the remaining fraction digits.
        if (next > U64_MAX) skipping = true;
        else {
          significand = next;
          exponent -= 1;
        }
      }
      i++;
    }
  }
  if (i < token.length) {
    // [eE][+-]?digits
    i++;
    let positiveExp = true;
    const sign = token.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) {
      positiveExp = sign === 0x2b;
      i++;
    }
    let exp = 0;
    for (; i < token.length; i++) {
      const digit = token.charCodeAt(i) - 0x30;
      if (exp > (I32_MAX - digit) / 10) {
        // parse_exponent_overflow: an error upwards, zero downwards.
        if (significand !== 0n && positiveExp) {
          throw new NumberOutOfRangeError('number out of range');
        }
        return new JsonNumber(positive ? '0.0' : '-0.0', 'f64');
      }
      exp = exp * 10 + digit;
    }
    // i32 saturating arithmetic, as in serde_json.
    exponent = Math.max(
      -2_147_483_648,
      Math.min(I32_MAX, positiveExp ? exponent + exp : exponent - exp),
    );
  }
  return new JsonNumber(formatF64(f64FromParts(positive, significand, exponent)), 'f64');
}
