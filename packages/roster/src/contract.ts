import { isActive } from './worker.js';
import type { Worker } from './worker.js';

/**
 * What a staffing contract asks of each worker; absent fields are not checked. Both the gateway's
 * FillValidator and chatd's `sim` judge workers with {@link contractMismatches}, so they agree.
 */
export interface WorkerContract {
  city?: string | undefined;
  state?: string | undefined;
  role?: string | undefined;
  /** The client; a worker who blacklisted it does not fit. */
  clientId?: string | undefined;
}

/** One way a worker fails a contract, in the order {@link contractMismatches} checks them. */
export type ContractMismatch =
  | { readonly rule: 'inactive'; readonly availability: number }
  | {
      readonly rule: 'city' | 'state' | 'role';
      readonly actual: string;
      readonly required: string;
    }
  | { readonly rule: 'blacklisted'; readonly client: string };

/** Roster values and contracts come from different hands: compared trimmed and case-blind. */
export function normalizeRosterValue(value: string): string {
  return value.trim().toLowerCase();
}

/** True when two roster values (city, state, role, client id) are the same after normalising. */
export function sameRosterValue(a: string, b: string): boolean {
  return normalizeRosterValue(a) === normalizeRosterValue(b);
}

/**
 * Every way `worker` fails `contract`: inactive, another city/state/role, or it blacklisted the
 * contract's client. Empty when the worker satisfies the contract. Pure; never throws.
 */
export function contractMismatches(worker: Worker, contract: WorkerContract): ContractMismatch[] {
  const out: ContractMismatch[] = [];
  if (!isActive(worker)) out.push({ rule: 'inactive', availability: worker.availability });
  for (const rule of ['city', 'state', 'role'] as const) {
    const required = contract[rule];
    if (required !== undefined && !sameRosterValue(worker[rule], required)) {
      out.push({ rule, actual: worker[rule], required });
    }
  }
  const client = contract.clientId;
  if (client !== undefined && worker.blacklistedClients.some((c) => sameRosterValue(c, client))) {
    out.push({ rule: 'blacklisted', client });
  }
  return out;
}

/** True when `worker` satisfies every field of `contract` (see {@link contractMismatches}). */
export function satisfiesContract(worker: Worker, contract: WorkerContract): boolean {
  return contractMismatches(worker, contract).length === 0;
}
