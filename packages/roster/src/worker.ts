/** One roster row. `candidateId` is `"W-" + workerId`; the lookup owns the objects, callers must not mutate them. */
export interface Worker {
  workerId: string;
  candidateId: string;
  name: string;
  role: string;
  city: string;
  state: string;
  availability: number;
  blacklistedClients: readonly string[];
}

/** True when the worker is available at least one day a week (SPEC: active iff availability > 0). */
export function isActive(worker: Worker): boolean {
  return worker.availability > 0;
}

/** Prefix that turns a numeric worker_id into a candidate id. */
export const CANDIDATE_ID_PREFIX = 'W-';

const CANDIDATE_ID_RE = /^W-(0|[1-9][0-9]{0,15})$/;

/** Parses a canonical candidate id (`W-<worker_id>`, no leading zeros) to its worker_id; else undefined. */
export function parseCandidateId(candidateId: string): number | undefined {
  const m = CANDIDATE_ID_RE.exec(candidateId);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
