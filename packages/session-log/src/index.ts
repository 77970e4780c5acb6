export {
  SESSION_RECORD_SCHEMA,
  ATTEMPT_VERDICTS,
  FINAL_VERDICTS,
  MAX_PROMPT_CODE_POINTS,
  MAX_ERROR_CODE_POINTS,
  MAX_LABEL_CODE_POINTS,
  MAX_ATTEMPTS,
  MAX_ARTIFACT_BYTES,
  MAX_ARTIFACT_DEPTH,
  ARTIFACT_DEPTH_MARKER,
  artifactSizeMarker,
  encodeSessionRecord,
  formatSessionTimestamp,
  truncateCodePoints,
  compareCodePoints,
} from './session-record.js';
export type {
  EncodableSessionRecord,
  AttemptVerdict,
  FinalVerdict,
  SessionAttemptRecord,
  SessionRecord,
} from './session-record.js';
export {
  SessionLogExporter,
  sessionLogPathProblem,
  warnOncePerCode,
} from './session-log-exporter.js';
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
  JsonCursor,
  JsonSyntaxError,
  readLosslessJson,
  SERDE_JSON_RECURSION_LIMIT,
} from './json-cursor.js';
export type { LosslessJson } from './json-cursor.js';
export { JsonNumber, formatF64, serdeJsonNumber, NumberOutOfRangeError } from './serde-number.js';
export {
  runSessionReport,
  runSessionAlarm,
  checkSessionAlarm,
  MAX_LINE_BYTES,
  SESSION_ALARM_SQL,
  SESSION_COLUMNS,
  isSessionAlarm,
  runSessionSql,
  sessionsViewSql,
  SessionLogNotFoundError,
} from './session-queries.js';
export type {
  SessionAlarmCheck,
  SessionLogLines,
  SessionQueryRow,
  SessionReport,
} from './session-queries.js';
export {
  stripTopLevelKeys,
  checkRowLine,
  compareRuns,
  classifyMatrix,
  disagreementReason,
  divergenceClass,
  runProbe,
  STRIPPED_KEYS,
} from './parity-check.js';
export type { MatrixResult, MatrixRuns, ParityResult, ProbeRun } from './parity-check.js';
export { buildReferencePeers, REFERENCE_PEERS_DIR } from './reference-peers.js';
