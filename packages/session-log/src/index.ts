export {
  SESSION_RECORD_SCHEMA,
  MAX_PROMPT_CODE_POINTS,
  encodeSessionRecord,
  formatSessionTimestamp,
  truncateCodePoints,
  compareCodePoints,
} from './session-record.js';
export type {
  AttemptVerdict,
  FinalVerdict,
  SessionAttemptRecord,
  SessionRecord,
} from './session-record.js';
export { SessionLogExporter, warnOncePerCode } from './session-log-exporter.js';
export type {
  SessionLogExporterOptions,
  SessionLogExporterStats,
  SessionLogWriteError,
} from './session-log-exporter.js';
export { createSessionLog, DEFAULT_SESSION_LOG_QUEUE_SIZE } from './session-log.js';
export type {
  SessionLog,
  SessionLogEntry,
  SessionLogOptions,
  SessionLogStats,
} from './session-log.js';
export { FixtureError, parseSessionFixture } from './fixture.js';
export {
  runSessionReport,
  runSessionAlarm,
  runSessionSql,
  sessionsViewSql,
  SessionLogNotFoundError,
} from './session-queries.js';
export type { SessionQueryRow, SessionReport } from './session-queries.js';
export {
  stripTopLevelKeys,
  checkRowLine,
  compareRuns,
  runProbe,
  STRIPPED_KEYS,
} from './parity-check.js';
export type { ParityResult, ProbeRun } from './parity-check.js';
