#!/usr/bin/env node
// Parity probe (SPEC §5): one fixture JSON object on stdin → one session.iterate.v1 row on
// stdout, timestamp and daemon pinned. A fixture it refuses → `bad fixture: …` on stderr, exit 1
// (what the parity script counts as a rejection); anything else that goes wrong is a crash,
// exit 2, never mistaken for a rejection.
import { FixtureError, parseSessionFixture } from './fixture.js';
import { encodeSessionRecord } from './session-record.js';

/** Timestamp every probe prints, so rows from different runtimes line up. */
const PINNED_TIMESTAMP = '2026-01-01T00:00:00+00:00';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function reject(message: string): number {
  process.stderr.write(`session-log-parity: bad fixture: ${message}\n`);
  return 1;
}

async function main(): Promise<number> {
  let text: string;
  try {
    // Invalid UTF-8 is refused, as Rust's read_to_string does; a BOM is kept (and refused).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await readStdin());
  } catch (error) {
    if (error instanceof TypeError) return reject('stdin is not valid UTF-8');
    throw error;
  }
  let record;
  try {
    record = parseSessionFixture(text, PINNED_TIMESTAMP, 'gateway');
  } catch (error) {
    if (error instanceof FixtureError) return reject(error.message);
    throw error;
  }
  process.stdout.write(encodeSessionRecord(record));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`session-log-parity: internal error: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
