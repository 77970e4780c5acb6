export { WorkerLookup, ROSTER_COLUMNS } from './worker-lookup.js';
export type {
  WorkerFilter,
  RosterLogger,
  RosterContract,
  WorkerLookupLoadOptions,
} from './worker-lookup.js';
export { isActive, parseCandidateId, CANDIDATE_ID_PREFIX } from './worker.js';
export type { Worker } from './worker.js';
export { generateRoster, DEFAULT_ROSTER_SEED, MAX_ROSTER_ROWS } from './generate-roster.js';
export type { GenerateRosterOptions, GenerateRosterResult } from './generate-roster.js';
