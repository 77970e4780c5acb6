import { serdeJsonNumber } from './serde-number.js';
import type { JsonNumber } from './serde-number.js';

/** Thrown by {@link JsonCursor}; the message says what and at which character offset. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

/** What {@link JsonCursor.readValue} returns: objects have a null prototype, numbers are exact. */
export type LosslessJson =
  null | boolean | string | JsonNumber | LosslessJson[] | { [key: string]: LosslessJson };

/** serde_json's default recursion limit: the 128th nested container is refused. */
const SERDE_JSON_RECURSION_LIMIT = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x66);
}

/**
 * A pull reader over JSON text that accepts and refuses what serde_json 1.0 (`from_str`)
 * does. Strict mode: lone surrogate escapes, numbers beyond f64 and the 128th nested container
 * are errors; skipped values (unknown struct fields) are checked for syntax only, as serde_json
 * ignores them. Lenient mode (re-reading text that JSON.parse already accepted): lone surrogates
 * are kept, out-of-range numbers read as null. Throws JsonSyntaxError.
 */
export class JsonCursor {
  private readonly _text: string;
  private readonly _strict: boolean;
  private _i = 0;
  private _remainingDepth = SERDE_JSON_RECURSION_LIMIT;

  constructor(text: string, strict: boolean) {
    this._text = text;
    this._strict = strict;
  }

  fail(message: string): never {
    throw new JsonSyntaxError(`${message} at character ${this._i}`);
  }

  /** Next significant character code (after JSON whitespace), or -1 at the end. */
  peek(): number {
    const text = this._text;
    let i = this._i;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) break;
    }
    this._i = i;
    return i < text.length ? text.charCodeAt(i) : -1;
  }

  /** Consumes `char` (after whitespace) or fails. */
  expect(char: string): void {
    if (this.peek() !== char.charCodeAt(0)) this.fail(`expected ${JSON.stringify(char)}`);
    this._i++;
  }

  /** Enters a container (serde_json's check_recursion); pair with {@link leave}. */
  enter(): void {
    if (--this._remainingDepth === 0) this.fail('recursion limit exceeded');
  }

  leave(): void {
    this._remainingDepth++;
  }

  /** Fails unless only whitespace is left. */
  end(): void {
    if (this.peek() !== -1) this.fail('trailing characters');
  }

  /**
   * Iterates an object's keys: call with `first = true` right after `{` was consumed; returns
   * the next key with its `:` consumed, or undefined after the closing `}`.
   */
  nextKey(first: boolean): string | undefined {
    let c = this.peek();
    if (c === 0x7d) {
      this._i++;
      return undefined;
    }
    if (!first) {
      if (c !== 0x2c) this.fail('expected `,` or `}`');
      this._i++;
      c = this.peek();
      if (c === 0x7d) this.fail('trailing comma');
    }
    if (c !== QUOTE) this.fail('key must be a string');
    const key = this.readString();
    this.expect(':');
    return key;
  }

  /** Like {@link nextKey} for arrays: true when another element follows (`,` consumed). */
  nextElement(first: boolean): boolean {
    const c = this.peek();
    if (c === 0x5d) {
      this._i++;
      return false;
    }
    if (first) return true;
    if (c !== 0x2c) this.fail('expected `,` or `]`');
    this._i++;
    if (this.peek() === 0x5d) this.fail('trailing comma');
    return true;
  }

  /** Consumes `{` or `[` when it is next; returns which, or undefined. */
  open(): '{' | '[' | undefined {
    const c = this.peek();
    if (c !== 0x7b && c !== 0x5b) return undefined;
    this._i++;
    return c === 0x7b ? '{' : '[';
  }

  /** Consumes the literal `null` when it is next. */
  takeNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this._literal('null');
    return true;
  }

  /** Reads a string (the cursor must be at its opening quote). */
  readString(): string {
    return this._string(true);
  }

  /** Reads a number token and returns it with serde_json's value and text. */
  readNumber(): JsonNumber {
    const token = this._numberToken();
    try {
      return serdeJsonNumber(token);
    } catch (error) {
      return this.fail((error as Error).message);
    }
  }

  /** Reads any value as serde_json's `Value` (objects keep the last of duplicate keys). */
  readValue(): LosslessJson {
    const c = this.peek();
    switch (c) {
      case QUOTE:
        return this._string(true);
      case 0x74:
        return this._literal('true');
      case 0x66:
        return this._literal('false');
      case 0x6e:
        return this._literal('null');
      case 0x7b: {
        this._i++;
        this.enter();
        const object: { [key: string]: LosslessJson } = Object.create(null) as {
          [key: string]: LosslessJson;
        };
        for (let key = this.nextKey(true); key !== undefined; key = this.nextKey(false)) {
          object[key] = this.readValue();
        }
        this.leave();
        return object;
      }
      case 0x5b: {
        this._i++;
        this.enter();
        const array: LosslessJson[] = [];
        for (let more = this.nextElement(true); more; more = this.nextElement(false)) {
          array.push(this.readValue());
        }
        this.leave();
        return array;
      }
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          if (this._strict) return this.readNumber();
          try {
            return serdeJsonNumber(this._numberToken());
          } catch {
            return null; // JSON.parse read it as Infinity; JSON has nothing better
          }
        }
        return this.fail('expected value');
    }
  }

  /** Skips one value the way serde_json ignores an unknown field: syntax only, no depth limit. */
  skipValue(): void {
    const closers: number[] = [];
    for (;;) {
      const c = this.peek();
      if (c === 0x7b || c === 0x5b) {
        this._i++;
        const closer = c === 0x7b ? 0x7d : 0x5d;
        const empty = this.peek() === closer;
        if (empty) {
          this._i++;
        } else {
          closers.push(closer);
          if (closer === 0x7d) this._skipKey();
          continue;
        }
      } else if (c === QUOTE) {
        this._string(false);
      } else if (c === 0x74) {
        this._literal('true');
      } else if (c === 0x66) {
        this._literal('false');
      } else if (c === 0x6e) {
        this._literal('null');
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        this._numberToken();
      } else {
        this.fail('expected value');
      }
      // After a value: close finished containers, or move to the next member.
      for (;;) {
        const closer = closers[closers.length - 1];
        if (closer === undefined) return;
        const next = this.peek();
        if (next === closer) {
          this._i++;
          closers.pop();
          continue;
        }
        if (next !== 0x2c)
          this.fail(closer === 0x7d ? 'expected `,` or `}`' : 'expected `,` or `]`');
        this._i++;
        if (closer === 0x7d) this._skipKey();
        break;
      }
    }
  }

  private _skipKey(): void {
    if (this.peek() !== QUOTE) this.fail('key must be a string');
    this._string(false);
    this.expect(':');
  }

  private _literal<T extends 'true' | 'false' | 'null'>(
    word: T,
  ): T extends 'null' ? null : boolean {
    if (!this._text.startsWith(word, this._i)) this.fail('expected ident');
    this._i += word.length;
    return (word === 'null' ? null : word === 'true') as T extends 'null' ? null : boolean;
  }

  // `validate`: serde_json checks surrogate pairing when it decodes a string, not when it skips one.
  private _string(validate: boolean): string {
    const text = this._text;
    let i = this._i + 1;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) {
        this._i = i;
        this.fail('EOF while parsing a string');
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c < 0x20) {
        this._i = i;
        this.fail('control character (\\u0000-\\u001F) found while parsing a string');
      }
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      this._i = i;
      const escape = text.charCodeAt(i + 1);
      i += 2;
      switch (escape) {
        case QUOTE:
          out += '"';
          break;
        case BACKSLASH:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const unit = this._hex4(i);
          i += 4;
          if (validate && this._strict) {
            if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone leading surrogate in hex escape');
            if (unit >= 0xd800 && unit <= 0xdbff) {
              if (text.charCodeAt(i) !== BACKSLASH || text.charCodeAt(i + 1) !== 0x75) {
                this.fail('unexpected end of hex escape');
              }
              const low = this._hex4(i + 2);
              if (low < 0xdc00 || low > 0xdfff) this.fail('lone leading surrogate in hex escape');
              out += String.fromCharCode(unit, low);
              i += 6;
              break;
            }
          }
          out += String.fromCharCode(unit);
          break;
        }
        default:
          this.fail('invalid escape');
      }
      start = i;
    }
    this._i = i + 1;
    return out + text.slice(start, i);
  }

  private _hex4(at: number): number {
    const text = this._text;
    if (at + 4 > text.length) this.fail('EOF while parsing a string');
    for (let k = at; k < at + 4; k++) if (!isHex(text.charCodeAt(k))) this.fail('invalid escape');
    return parseInt(text.slice(at, at + 4), 16);
  }

  // Returns the token of a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  private _numberToken(): string {
    const text = this._text;
    const from = this._i;
    let i = from;
    const digit = (at: number): boolean => {
      const c = text.charCodeAt(at);
      return c >= 0x30 && c <= 0x39;
    };
    if (text.charCodeAt(i) === 0x2d) i++;
    if (text.charCodeAt(i) === 0x30) {
      i++;
      if (digit(i)) {
        this._i = i;
        this.fail('invalid number');
      }
    } else if (digit(i)) {
      while (digit(i)) i++;
    } else {
      this._i = i;
      this.fail('invalid number');
    }
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!digit(i)) {
        this._i = i;
        this.fail('invalid number');
      }
      while (digit(i)) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!digit(i)) {
        this._i = i;
        this.fail('invalid number');
      }
      while (digit(i)) i++;
    }
    this._i = i;
    return text.slice(from, i);
  }
}

/**
 * Reads JSON text that JSON.parse already accepted (lenient mode) keeping every number's
 * serde_json text. Throws JsonSyntaxError on anything else, or past 127 nested containers.
 */
export function readLosslessJson(text: string): LosslessJson {
  const cursor = new JsonCursor(text, false);
  const value = cursor.readValue();
  cursor.end();
  return value;
}
