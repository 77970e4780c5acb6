#!/usr/bin/env node
// Parity probe (SPEC §5): one fixture JSON object on stdin → one session.iterate.v1 row on
// stdout, timestamp and daemon pinned. Malformed input → message on stderr, exit 1.
import { FixtureError, parseSessionFixture } from './fixture.js';
import { encodeSessionRecord } from './session-record.js';

/** Timestamp every probe prints, so rows from different runtimes line up. */
const PINNED_TIMESTAMP = '2026-01-01T00:00:00+00:00';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(): Promise<number> {
  let text: string;
  try {
    // Invalid UTF-8 is refused, as Rust's read_to_string does; a BOM is kept (and refused).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await readStdin());
  } catch {
    process.stderr.write('session-log-parity: stdin is not valid UTF-8\n');
    return 1;
  }
  try {
    const record = parseSessionFixture(text, PINNED_TIMESTAMP, 'gateway');
    process.stdout.write(encodeSessionRecord(record));
    return 0;
  } catch (error) {
    const message = error instanceof FixtureError ? error.message : String(error);
    process.stderr.write(`session-log-parity: bad fixture: ${message}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`session-log-parity: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
