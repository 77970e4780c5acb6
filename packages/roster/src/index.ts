export { WorkerLookup } from './worker-lookup.js';
export { ROSTER_COLUMNS } from './roster-reader.js';
export { contractMismatches, sameRosterValue, satisfiesContract } from './contract.js';
export type { ContractMismatch, WorkerContract } from './contract.js';
export { sampleContract } from './sample-contract.js';
export type { RosterContract } from './sample-contract.js';
export { isActive, parseCandidateId, CANDIDATE_ID_PREFIX } from './worker.js';
export type { Worker } from './worker.js';
export { generateRoster, DEFAULT_ROSTER_SEED, MAX_ROSTER_ROWS } from './generate-roster.js';
export type { GenerateRosterOptions, GenerateRosterResult } from './generate-roster.js';
export type {
  RosterLogger,
  WorkerFilter,
  WorkerGroup,
  WorkerLookupLoadOptions,
} from './worker-lookup.js';
