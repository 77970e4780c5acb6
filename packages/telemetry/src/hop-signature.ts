import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ConfigError, readString } from './env-config.js';
import type { Env } from './env-config.js';

/** Request header our own hops sign their W3C parent with (gateway → chatd, → /v1/validate). */
export const HOP_SIGNATURE_HEADER = 'x-lakehouse-hop';

/** The variable holding the key both services share; `npm start` generates one per run. */
export const HOP_KEY_VARIABLE = 'LAKEHOUSE_HOP_KEY';

/** Shortest accepted key (characters): 16 random characters are ~96 bits and more. */
const MIN_HOP_KEY_LENGTH = 16;

// Fewer distinct characters than this is a placeholder ("aaaa…", "abab…"), not a key: 16 random
// hex digits have fewer than 5 distinct ones with a probability under 1e-6.
const MIN_DISTINCT_KEY_CHARACTERS = 5;

const VERSION = 'v1=';
// 128 of the 256 bits: as strong as the trace id it vouches for, and a short header.
const SIGNATURE_BYTES = 16;
const SIGNATURE_LENGTH = VERSION.length + 22; // base64url of 16 bytes

/**
 * Signs and checks the W3C parent (trace id + span id) a hop carries, with an HMAC-SHA256 key
 * both services share. A client without the key cannot make a signature, so a verified parent
 * is one of our own spans: only then may the callee place its observations under it.
 */
export class HopSigner {
  // A KeyObject made once: from a Buffer, every HMAC imports the key again (10 µs on Node 24).
  private readonly _key: KeyObject;
  /** False when the key was made up for this process (no LAKEHOUSE_HOP_KEY): no other process trusts it. */
  readonly shared: boolean;

  constructor(key: string | Buffer, shared: boolean) {
    this._key = createSecretKey(typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
    this.shared = shared;
  }

  /** The header value for a hop whose W3C parent is (traceId, spanId). */
  sign(traceId: string, spanId: string): string {
    return VERSION + this._mac(traceId, spanId).toString('base64url');
  }

  /** True when `signature` is this key's signature of (traceId, spanId). Never throws. */
  verify(traceId: string, spanId: string, signature: unknown): boolean {
    if (typeof signature !== 'string' || signature.length !== SIGNATURE_LENGTH) return false;
    if (!signature.startsWith(VERSION)) return false;
    const given = Buffer.from(signature.slice(VERSION.length), 'base64url');
    if (given.length !== SIGNATURE_BYTES) return false;
    return timingSafeEqual(given, this._mac(traceId, spanId));
  }

  private _mac(traceId: string, spanId: string): Buffer {
    return createHmac('sha256', this._key)
      .update(traceId)
      .update('-')
      .update(spanId)
      .digest()
      .subarray(0, SIGNATURE_BYTES);
  }
}

/**
 * The process's signer from `LAKEHOUSE_HOP_KEY`. Unset: a random key of this process only, so
 * its own loopback hop (/v1/validate) still verifies and nothing from another process does.
 * Empty reads as unset. Throws ConfigError for a key of only whitespace, shorter than
 * {@link MIN_HOP_KEY_LENGTH}, or of fewer than 5 distinct characters.
 */
export function hopSignerFromEnv(env: Env): HopSigner {
  const key = readString(env, HOP_KEY_VARIABLE);
  if (key === undefined) {
    if (env[HOP_KEY_VARIABLE] !== undefined && env[HOP_KEY_VARIABLE] !== '') {
      throw new ConfigError(
        HOP_KEY_VARIABLE,
        'is only whitespace; unset it or give a random key, e.g. openssl rand -hex 32',
      );
    }
    return new HopSigner(randomBytes(32), false);
  }
  if (new Set(key).size < MIN_DISTINCT_KEY_CHARACTERS) {
    throw new ConfigError(
      HOP_KEY_VARIABLE,
      `has fewer than ${MIN_DISTINCT_KEY_CHARACTERS} distinct characters, so it is no secret; e.g. openssl rand -hex 32`,
    );
  }
  if (key.length < MIN_HOP_KEY_LENGTH) {
    throw new ConfigError(
      HOP_KEY_VARIABLE,
      `must be at least ${MIN_HOP_KEY_LENGTH} characters (got ${key.length}); e.g. openssl rand -hex 32`,
    );
  }
  return new HopSigner(key, true);
}
