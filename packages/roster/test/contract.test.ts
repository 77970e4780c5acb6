import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contractMismatches, sameRosterValue, satisfiesContract } from '../src/index.js';
import type { Worker } from '../src/index.js';

const PAT: Worker = {
  workerId: '8',
  candidateId: 'W-8',
  name: 'Picky Pat',
  role: 'Forklift Operator',
  city: 'Chicago',
  state: 'IL',
  availability: 3,
  blacklistedClients: ['C-007', 'C-012'],
};

void describe('contractMismatches: the one rule of "does this worker fit this contract"', () => {
  void it('accepts a worker that fits, comparing trimmed and case-blind', () => {
    const contract = {
      city: ' chicago ',
      state: 'il',
      role: 'forklift operator',
      clientId: 'C-001',
    };
    assert.deepEqual(contractMismatches(PAT, contract), []);
    assert.equal(satisfiesContract(PAT, contract), true);
    assert.equal(satisfiesContract(PAT, {}), true);
  });

  void it('rejects a blacklisted client whatever its case or padding', () => {
    for (const clientId of ['C-007', 'c-007', ' C-007 ', 'c-012']) {
      assert.deepEqual(
        contractMismatches(PAT, { clientId }),
        [{ rule: 'blacklisted', client: clientId }],
        clientId,
      );
    }
  });

  void it('lists every mismatch in check order', () => {
    assert.deepEqual(
      contractMismatches(
        { ...PAT, availability: 0 },
        { city: 'Houston', state: 'TX', role: 'welder', clientId: 'C-007' },
      ),
      [
        { rule: 'inactive', availability: 0 },
        { rule: 'city', actual: 'Chicago', required: 'Houston' },
        { rule: 'state', actual: 'IL', required: 'TX' },
        { rule: 'role', actual: 'Forklift Operator', required: 'welder' },
        { rule: 'blacklisted', client: 'C-007' },
      ],
    );
  });

  void it('sameRosterValue is trimmed and case-blind', () => {
    assert.equal(sameRosterValue(' Reno', 'RENO '), true);
    assert.equal(sameRosterValue('Reno', 'Reno NV'), false);
  });
});
