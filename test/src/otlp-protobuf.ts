// Decodes an OTLP/protobuf ExportTraceServiceRequest into the OTLP/JSON shape (hex ids, int64 as
// decimal strings), so protobuf and JSON exports share one decoder downstream. Written from the
// opentelemetry-proto messages, independently of any encoder under test (the Collector's Go one,
// @opentelemetry/otlp-transformer's JS one). Throws on malformed input.

type Json = Record<string, unknown>;

/** Wire types of the protobuf encoding. */
const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

interface Field {
  readonly number: number;
  readonly wire: number;
  /** VARINT/I64/I32: the value; LEN: undefined. */
  readonly value: bigint | undefined;
  /** LEN: the payload. */
  readonly bytes: Uint8Array | undefined;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new Error('truncated varint');
      if (shift > 63n) throw new Error('varint too long');
      const byte = buf[pos++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  const fixed = (size: number): bigint => {
    if (pos + size > buf.length) throw new Error('truncated fixed-width field');
    let result = 0n;
    for (let i = size - 1; i >= 0; i--) result = (result << 8n) | BigInt(buf[pos + i] ?? 0);
    pos += size;
    return result;
  };
  while (pos < buf.length) {
    const tag = varint();
    const number = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (number === 0) throw new Error('field number 0');
    if (wire === WIRE.VARINT) yield { number, wire, value: varint(), bytes: undefined };
    else if (wire === WIRE.I64) yield { number, wire, value: fixed(8), bytes: undefined };
    else if (wire === WIRE.I32) yield { number, wire, value: fixed(4), bytes: undefined };
    else if (wire === WIRE.LEN) {
      const length = Number(varint());
      if (pos + length > buf.length) throw new Error('truncated length-delimited field');
      yield { number, wire, value: undefined, bytes: buf.subarray(pos, pos + length) };
      pos += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const text = (f: Field): string => utf8.decode(f.bytes ?? new Uint8Array());
const hex = (f: Field): string => Buffer.from(f.bytes ?? new Uint8Array()).toString('hex');
const signed64 = (v: bigint | undefined): bigint => BigInt.asIntN(64, v ?? 0n);

function anyValue(buf: Uint8Array): Json {
  const out: Json = {};
  for (const f of fields(buf)) {
    if (f.number === 1) out.stringValue = text(f);
    else if (f.number === 2) out.boolValue = f.value !== 0n;
    else if (f.number === 3) out.intValue = signed64(f.value).toString();
    else if (f.number === 4) {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, f.value ?? 0n, true);
      out.doubleValue = view.getFloat64(0, true);
    } else if (f.number === 5) out.arrayValue = { values: repeated(f.bytes, 1, anyValue) };
    else if (f.number === 6) out.kvlistValue = { values: repeated(f.bytes, 1, keyValue) };
    else if (f.number === 7) out.bytesValue = Buffer.from(f.bytes ?? []).toString('base64');
  }
  return out;
}

function keyValue(buf: Uint8Array): Json {
  const out: Json = { key: '', value: {} };
  for (const f of fields(buf)) {
    if (f.number === 1) out.key = text(f);
    else if (f.number === 2 && f.bytes) out.value = anyValue(f.bytes);
  }
  return out;
}

function repeated(
  buf: Uint8Array | undefined,
  number: number,
  decode: (b: Uint8Array) => Json,
): Json[] {
  const out: Json[] = [];
  for (const f of fields(buf ?? new Uint8Array())) {
    if (f.number === number && f.bytes) out.push(decode(f.bytes));
  }
  return out;
}

function attributesOf(buf: Uint8Array, number: number): Json[] {
  return repeated(buf, number, keyValue);
}

function span(buf: Uint8Array): Json {
  const out: Json = { attributes: [] };
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1:
        out.traceId = hex(f);
        break;
      case 2:
        out.spanId = hex(f);
        break;
      case 3:
        out.traceState = text(f);
        break;
      case 4:
        out.parentSpanId = hex(f);
        break;
      case 5:
        out.name = text(f);
        break;
      case 6:
        out.kind = Number(f.value);
        break;
      case 7:
        out.startTimeUnixNano = (f.value ?? 0n).toString();
        break;
      case 8:
        out.endTimeUnixNano = (f.value ?? 0n).toString();
        break;
      case 15: {
        const status: Json = {};
        for (const s of fields(f.bytes ?? new Uint8Array())) {
          if (s.number === 2) status.message = text(s);
          else if (s.number === 3) status.code = Number(s.value);
        }
        out.status = status;
        break;
      }
      default:
        break;
    }
  }
  out.attributes = attributesOf(buf, 9);
  return out;
}

function scopeSpans(buf: Uint8Array): Json {
  const out: Json = { spans: repeated(buf, 2, span) };
  for (const f of fields(buf)) {
    if (f.number === 1 && f.bytes) {
      const scope: Json = { attributes: attributesOf(f.bytes, 3) };
      for (const s of fields(f.bytes)) {
        if (s.number === 1) scope.name = text(s);
        else if (s.number === 2) scope.version = text(s);
      }
      out.scope = scope;
    }
  }
  return out;
}

function resourceSpans(buf: Uint8Array): Json {
  const out: Json = { scopeSpans: repeated(buf, 2, scopeSpans) };
  for (const f of fields(buf)) {
    if (f.number === 1 && f.bytes) out.resource = { attributes: attributesOf(f.bytes, 1) };
  }
  return out;
}

/** ExportTraceServiceRequest (protobuf bytes) → `{resourceSpans: […]}` as OTLP/JSON writes it. */
export function decodeTraceRequestProtobuf(buf: Uint8Array): { resourceSpans: Json[] } {
  return { resourceSpans: repeated(buf, 1, resourceSpans) };
}
