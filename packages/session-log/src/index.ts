export {
  SESSION_RECORD_SCHEMA,
  FINAL_VERDICTS,
  MAX_PROMPT_CODE_POINTS,
  MAX_ERROR_CODE_POINTS,
  MAX_LABEL_CODE_POINTS,
  MAX_ATTEMPTS,
  MAX_ARTIFACT_DEPTH,
  ARTIFACT_DEPTH_MARKER,
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
export { SessionLogExporter, sessionLogPathProblem } from './session-log-exporter.js';
export type {
  SessionLogExporterOptions,
  SessionLogExporterStats,
  SessionLogWriteError,
} from './session-log-exporter.js';
export { createSessionLog } from './session-log.js';
export type {
  SessionLog,
  SessionLogEntry,
  SessionLogOptions,
  SessionLogStats,
} from './session-log.js';
export { parseSessionFixture } from './fixture.js';
export {
  runSessionReport,
  runSessionAlarm,
  checkSessionAlarm,
  MAX_LINE_BYTES,
  SESSION_ALARM_SQL,
  SESSION_COLUMNS,
  isSessionAlarm,
  runSessionSql,
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
} from './parity-check.js';
export type { MatrixResult, MatrixRuns, ParityResult, ProbeRun } from './parity-check.js';
export { buildReferencePeers } from './reference-peers.js';
