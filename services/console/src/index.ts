export { SessionStore, isBlankLine, DEFAULT_MAX_LINE_BYTES } from './session-store.js';
export type { SessionStoreOptions, SessionStoreStatus } from './session-store.js';
