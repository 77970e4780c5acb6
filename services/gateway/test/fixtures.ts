import { WorkerLookup } from '@lakehouse/roster';
import type { Worker } from '@lakehouse/roster';

function worker(id: number, fields: Partial<Worker> = {}): Worker {
  return {
    workerId: String(id),
    candidateId: `W-${id}`,
    name: `Worker ${id}`,
    role: 'forklift operator',
    city: 'Chicago',
    state: 'IL',
    availability: 5,
    blacklistedClients: [],
    ...fields,
  };
}

/** A hand-built roster: W-1..W-3 match the standard contract; the rest break one rule each. */
export const WORKERS: readonly Worker[] = [
  worker(1, { name: 'Maria Garcia' }),
  worker(2, { name: 'James Smith' }),
  worker(3, { name: 'Wei Chen' }),
  worker(4, { name: 'Idle Ivan', availability: 0 }),
  worker(5, { name: 'Houston Hal', city: 'Houston', state: 'TX' }),
  worker(6, { name: 'Springfield Sam', city: 'Chicago', state: 'MO' }),
  worker(7, { name: 'Welder Wanda', role: 'welder' }),
  worker(8, { name: 'Picky Pat', blacklistedClients: ['C-001', 'C-002'] }),
];

/** The contract W-1..W-3 satisfy. */
export const CONTRACT = {
  target_count: 2,
  city: 'Chicago',
  state: 'IL',
  role: 'forklift operator',
  client_id: 'C-001',
} as const;

/** A fresh ready lookup over {@link WORKERS}. */
export function testRoster(): WorkerLookup {
  return WorkerLookup.fromWorkers(WORKERS, 'test');
}
