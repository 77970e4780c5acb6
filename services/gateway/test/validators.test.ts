import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerLookup } from '@lakehouse/roster';
import { validateEmail } from '../src/validators/email.js';
import { parseFillContext, validateFill } from '../src/validators/fill.js';
import { validatePlaybook } from '../src/validators/playbook.js';
import { validateArtifact } from '../src/validators/validate-artifact.js';
import type { ValidationIssue } from '../src/validators/types.js';
import { CONTRACT, testRoster } from './fixtures.js';

const roster = testRoster();
const contract: Record<string, unknown> = { ...CONTRACT };

function fills(...ids: string[]): { fills: { candidate_id: string; name?: string }[] } {
  return { fills: ids.map((candidate_id) => ({ candidate_id })) };
}

function only(errors: ValidationIssue[]): ValidationIssue {
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0] as ValidationIssue;
}

void describe('FillValidator', () => {
  void it('accepts a grounded fill that meets the contract', () => {
    const report = validateFill(
      {
        fills: [
          { candidate_id: 'W-1', name: 'Maria Garcia' },
          { candidate_id: 'W-2', name: 'James Smith' },
        ],
      },
      contract,
      roster,
    );
    assert.deepEqual(report, { ok: true, errors: [], warnings: [], grounded_in_roster: true });
  });

  void it('schema: rejects a non-object artifact', () => {
    const report = validateFill([1], contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'schema',
      message: 'artifact must be a JSON object',
    });
    assert.equal(report.grounded_in_roster, false);
  });

  void it('schema: fills must be an array', () => {
    const report = validateFill({ fills: 'W-1' }, contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'schema',
      message: 'fills must be an array',
      field: 'fills',
    });
    assert.equal(report.ok, false);
  });

  void it('schema: each fill is an object with a string candidate_id', () => {
    const report = validateFill(
      { fills: ['W-1', { candidate_id: 7 }] },
      { target_count: 2 },
      roster,
    );
    assert.deepEqual(report.errors, [
      { category: 'schema', message: 'fills[0] must be an object', field: 'fills[0]' },
      {
        category: 'schema',
        message: 'fills[1].candidate_id must be a non-empty string',
        field: 'fills[1].candidate_id',
      },
    ]);
    assert.equal(report.grounded_in_roster, false);
  });

  void it('schema: a name, when given, is a string', () => {
    const report = validateFill({ fills: [{ candidate_id: 'W-1', name: 3 }] }, {}, roster);
    assert.deepEqual(only(report.errors), {
      category: 'schema',
      message: 'fills[0].name must be a string',
      field: 'fills[0].name',
    });
  });

  void it('completeness: the number of fills equals context.target_count', () => {
    const report = validateFill(fills('W-1'), contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'completeness',
      message: 'expected 2 fills (context.target_count), got 1',
      field: 'fills',
    });
    assert.equal(report.grounded_in_roster, true);
  });

  void it('completeness: fills must not be empty, and an empty fill is never grounded', () => {
    assert.deepEqual(only(validateFill({ fills: [] }, {}, roster).errors), {
      category: 'completeness',
      message: 'fills must not be empty',
      field: 'fills',
    });
    // target_count 0 is a 400 at the edge (no staffing request); here it is ignored as ill-typed.
    const zero = validateFill({ fills: [] }, { target_count: 0 }, roster);
    assert.equal(zero.ok, false);
    assert.equal(zero.grounded_in_roster, false);
    assert.equal(parseFillContext({ target_count: 0 }).problem?.field, 'context.target_count');
  });

  void it('phantom rejection: candidate_id W-X not in roster', () => {
    const report = validateFill(fills('W-1', 'W-999'), contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'consistency',
      message: 'candidate_id W-999 not in roster',
      field: 'fills[1].candidate_id',
    });
    assert.equal(report.grounded_in_roster, false);
  });

  void it('phantom rejection: a malformed id is not in the roster either', () => {
    const report = validateFill(fills('worker-1'), { target_count: 1 }, roster);
    assert.equal(only(report.errors).message, 'candidate_id worker-1 not in roster');
  });

  void it('consistency: the worker must be active', () => {
    const report = validateFill(fills('W-1', 'W-4'), contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'consistency',
      message: 'candidate_id W-4 is not active (availability 0)',
      field: 'fills[1].candidate_id',
    });
    // Inactive workers still resolve through the roster: grounded, just rejected.
    assert.equal(report.grounded_in_roster, true);
  });

  void it('consistency: city, state and role must match the contract', () => {
    const report = validateFill(
      fills('W-5', 'W-6', 'W-7'),
      { ...contract, target_count: 3 },
      roster,
    );
    assert.deepEqual(report.errors, [
      {
        category: 'consistency',
        message: "candidate_id W-5 is in city Houston, not the contract's city",
        field: 'fills[0].candidate_id',
      },
      {
        category: 'consistency',
        message: "candidate_id W-5 is in state TX, not the contract's state",
        field: 'fills[0].candidate_id',
      },
      {
        category: 'consistency',
        message: "candidate_id W-6 is in state MO, not the contract's state",
        field: 'fills[1].candidate_id',
      },
      {
        category: 'consistency',
        message: "candidate_id W-7 has role welder, not the contract's role",
        field: 'fills[2].candidate_id',
      },
    ]);
  });

  void it('consistency: contract matching is trimmed and case-insensitive', () => {
    const report = validateFill(
      fills('W-1'),
      { city: ' chicago', state: 'il', role: 'Forklift Operator' },
      roster,
    );
    assert.equal(report.ok, true, JSON.stringify(report.errors));
  });

  void it('consistency: no duplicate candidate_id', () => {
    const report = validateFill(fills('W-1', 'W-1'), contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'consistency',
      message: 'candidate_id W-1 appears more than once (fills[0] and fills[1])',
      field: 'fills[1].candidate_id',
    });
  });

  void it('policy: a worker who blacklisted context.client_id is rejected', () => {
    const report = validateFill(fills('W-1', 'W-8'), contract, roster);
    assert.deepEqual(only(report.errors), {
      category: 'policy',
      message: "candidate_id W-8 has blacklisted the contract's client",
      field: 'fills[1].candidate_id',
    });
    assert.equal(
      validateFill(fills('W-1', 'W-8'), { ...contract, client_id: 'C-003' }, roster).ok,
      true,
    );
  });

  void it('policy: the blacklist match is case-blind (client c-001 vs a blacklisted C-001)', () => {
    const report = validateFill(fills('W-1', 'W-8'), { ...contract, client_id: 'c-001' }, roster);
    assert.deepEqual(only(report.errors), {
      category: 'policy',
      message: "candidate_id W-8 has blacklisted the contract's client",
      field: 'fills[1].candidate_id',
    });
  });

  void it('warning only: the proposed name differs from the roster name', () => {
    const report = validateFill(
      {
        fills: [
          { candidate_id: 'W-1', name: 'Mary Garcia' },
          { candidate_id: 'W-2', name: 'james  SMITH' },
        ],
      },
      contract,
      roster,
    );
    assert.equal(report.ok, true);
    assert.deepEqual(report.warnings, [
      {
        category: 'consistency',
        message: 'fills[0].name "Mary Garcia" differs from roster name "Maria Garcia" for W-1',
        field: 'fills[0].name',
      },
    ]);
    assert.equal(report.grounded_in_roster, true);
  });

  void it('reports every problem at once', () => {
    const report = validateFill(fills('W-999', 'W-4', 'W-8'), contract, roster);
    assert.deepEqual(
      report.errors.map((e) => e.category),
      ['completeness', 'consistency', 'consistency', 'policy'],
    );
  });

  void it('a roster that is not loaded fails every existence check and says so', () => {
    const empty = WorkerLookup.fromWorkers([], 'data/missing.parquet');
    assert.equal(empty.ready, false);
    const report = validateFill(fills('W-1', 'W-2'), contract, empty);
    assert.equal(report.errors.length, 2);
    for (const e of report.errors) {
      assert.equal(e.category, 'consistency');
      assert.match(e.message, /^candidate_id W-\d cannot be checked: the roster is not loaded/);
    }
    assert.equal(report.grounded_in_roster, false);
  });

  void it('ignores ill-typed context fields (routes reject them first)', () => {
    assert.equal(validateFill(fills('W-1'), { target_count: '2', city: 7 }, roster).ok, true);
  });
});

void describe('parseFillContext', () => {
  void it('reads the contract fields', () => {
    assert.deepEqual(parseFillContext({ ...contract, extra: 1 }).contract, {
      targetCount: 2,
      city: 'Chicago',
      state: 'IL',
      role: 'forklift operator',
      clientId: 'C-001',
    });
  });

  void it('names the first ill-typed field', () => {
    assert.deepEqual(parseFillContext({ target_count: 1.5 }).problem, {
      field: 'context.target_count',
      message: 'context.target_count must be a positive integer',
    });
    assert.deepEqual(parseFillContext({ target_count: -1 }).problem?.field, 'context.target_count');
    assert.deepEqual(parseFillContext({ city: 1 }).problem, {
      field: 'context.city',
      message: 'context.city must be a string',
    });
    assert.equal(parseFillContext({ client_id: ['C-1'] }).problem?.field, 'context.client_id');
  });
});

void describe('email validator', () => {
  void it('accepts {to, subject, body}', () => {
    assert.deepEqual(validateEmail({ to: 'ops@example.com', subject: 'Hi', body: 'Text' }), {
      ok: true,
      errors: [],
      warnings: [],
      grounded_in_roster: null,
    });
  });

  void it('requires to with an @, non-empty subject and body', () => {
    const report = validateEmail({ to: 'nobody', subject: ' ', body: 3 });
    assert.deepEqual(report.errors, [
      { category: 'schema', message: "to must be a string containing '@'", field: 'to' },
      { category: 'schema', message: 'subject must be a non-empty string', field: 'subject' },
      { category: 'schema', message: 'body must be a non-empty string', field: 'body' },
    ]);
    assert.equal(report.grounded_in_roster, null);
  });

  void it('rejects a non-object', () => {
    assert.equal(only(validateEmail('hi').errors).message, 'artifact must be a JSON object');
  });
});

void describe('playbook validator', () => {
  void it('accepts {title, steps}', () => {
    const report = validatePlaybook({ title: 'Onboarding', steps: ['Call', 'Email'] });
    assert.equal(report.ok, true);
    assert.equal(report.grounded_in_roster, null);
  });

  void it('requires a title and a non-empty array of non-empty strings', () => {
    assert.deepEqual(validatePlaybook({ steps: 'one' }).errors, [
      { category: 'schema', message: 'title must be a non-empty string', field: 'title' },
      { category: 'schema', message: 'steps must be an array', field: 'steps' },
    ]);
    assert.deepEqual(only(validatePlaybook({ title: 'T', steps: [] }).errors), {
      category: 'schema',
      message: 'steps must not be empty',
      field: 'steps',
    });
    assert.deepEqual(only(validatePlaybook({ title: 'T', steps: ['a', ''] }).errors), {
      category: 'schema',
      message: 'steps[1] must be a non-empty string',
      field: 'steps[1]',
    });
  });
});

void describe('validateArtifact', () => {
  void it('dispatches on kind', () => {
    assert.equal(
      validateArtifact('fill', fills('W-999'), {}, roster).errors[0]?.message,
      'candidate_id W-999 not in roster',
    );
    assert.equal(validateArtifact('email', {}, {}, roster).errors.length, 3);
    assert.equal(validateArtifact('playbook', { title: 'T', steps: ['s'] }, {}, roster).ok, true);
  });
});
