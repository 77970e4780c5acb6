import { CITIES, ROLES } from './roster-data.js';
import { isActive } from './worker.js';
import type { WorkerLookup } from './worker-lookup.js';

/** A (city, state, role) triple, the shape of a fill contract. */
export interface RosterContract {
  city: string;
  state: string;
  role: string;
}

const MIN_CONTRACT_WORKERS = 5;
const FALLBACK_CONTRACT: RosterContract = {
  city: CITIES[0]?.city ?? 'Chicago',
  state: CITIES[0]?.state ?? 'IL',
  role: ROLES[0]?.role ?? 'warehouse associate',
};

/**
 * A deterministic (city, state, role) with at least 5 active workers, chosen by `seed`, for demos
 * and tests (`npm start`'s curl, `roster --check`). Falls back to the best-staffed combination,
 * or a fixed contract when the roster is empty. Never throws.
 */
export function sampleContract(lookup: Pick<WorkerLookup, 'groups'>, seed: number): RosterContract {
  const rich: RosterContract[] = [];
  let best: RosterContract | undefined;
  let bestActive = 0;
  for (const group of lookup.groups()) {
    const active = group.workers.reduce((n, w) => (isActive(w) ? n + 1 : n), 0);
    const contract = { city: group.city, state: group.state, role: group.role };
    if (active >= MIN_CONTRACT_WORKERS) rich.push(contract);
    if (active > bestActive) {
      best = contract;
      bestActive = active;
    }
  }
  const contracts = rich.length > 0 ? rich : best === undefined ? [] : [best];
  const n = Math.abs(Math.trunc(seed)) || 0;
  const picked = contracts[n % Math.max(1, contracts.length)];
  return { ...(picked ?? FALLBACK_CONTRACT) };
}
