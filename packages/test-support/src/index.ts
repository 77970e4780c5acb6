export { decodeTraceExport, langfuseIngestionCheck, startOtlpReceiver } from './otlp-receiver.js';
export type {
  OtlpReceiver,
  OtlpReceiverOptions,
  ReceivedLog,
  ReceivedRequest,
  ReceivedSpan,
  Rejection,
} from './otlp-receiver.js';
export {
  openAiCompletion,
  requestJson,
  sendJson,
  startStubChatd,
  startStubServer,
  userPrompt,
} from './stub-server.js';
export type {
  ChatCall,
  StubChatd,
  StubReply,
  StubRequest,
  StubServer,
  StubServerOptions,
} from './stub-server.js';
export { postJson, postOverAgent } from './http-json.js';
export type { AgentOutcome, JsonResponse } from './http-json.js';
export { eventually } from './eventually.js';
export { closedUrl, freePort } from './ports.js';
export {
  anySizeText,
  credentialName,
  credentialValue,
  hostileText,
  jsonLayers,
  nested,
  quotedCredentialValue,
  secretShapes,
} from './hostile.js';
export type { SecretSample } from './hostile.js';
export { mountTmpfs, unmountTmpfs } from './tmpfs.js';
export {
  PREREQUISITES,
  commandPrerequisite,
  decidePrerequisites,
  filePrerequisite,
  inCi,
  requires,
} from './prerequisite.js';
export type { Prerequisite, PrerequisiteDecision } from './prerequisite.js';
