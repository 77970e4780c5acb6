export { createApp } from './app.js';
export type { AppDeps } from './app.js';
export { loadConfig, selfUrl, ConfigError, DEFAULT_CONFIG } from './config.js';
export type { GatewayConfig } from './config.js';
export { HttpError } from './http-error.js';
export { extractJsonObject, MAX_EXTRACT_CHARS } from './extract-json.js';
export {
  buildInitialPrompt,
  buildMessages,
  appendFeedback,
  validationFeedback,
  NO_JSON_FEEDBACK,
  SHAPE_HINTS,
} from './prompt.js';
export type { ChatMessage } from './prompt.js';
export { parseIterateRequest, parseValidateRequest, ITERATE_DEFAULTS } from './iterate-request.js';
export type { IterateRequest, ValidateRequest, Parsed } from './iterate-request.js';
export { runIterateSession } from './iterate.js';
export type {
  AttemptVerdict,
  FinalVerdict,
  HistoryEntry,
  IterateInstruments,
  IterateOutcome,
  IterateSessionDeps,
} from './iterate.js';
export { validateArtifact } from './validators/validate-artifact.js';
export { validateFill, parseFillContext } from './validators/fill.js';
export type { FillContract, ContextProblem } from './validators/fill.js';
export { validateEmail } from './validators/email.js';
export { validatePlaybook } from './validators/playbook.js';
export { ARTIFACT_KINDS, isArtifactKind } from './validators/types.js';
export type {
  ArtifactKind,
  RosterView,
  ValidationCategory,
  ValidationIssue,
  ValidationReport,
} from './validators/types.js';
