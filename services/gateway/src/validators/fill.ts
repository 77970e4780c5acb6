import { contractMismatches } from '@lakehouse/roster';
import type { ContractMismatch, Worker, WorkerContract } from '@lakehouse/roster';
import { boundText } from '@lakehouse/telemetry';
import { isNonEmptyString, isPlainObject, makeReport, MAX_MESSAGE_VALUE_CHARS } from './types.js';
import type { RosterView, ValidationIssue, ValidationReport } from './types.js';

/** The staffing contract a fill answers, read from the request's `context`. */
export interface FillContract extends WorkerContract {
  targetCount?: number;
}

/** A context field with the wrong type: the caller's error (HTTP 400), not the model's. */
export interface ContextProblem {
  field: string;
  message: string;
}

const STRING_FIELDS = [
  ['city', 'city'],
  ['state', 'state'],
  ['role', 'role'],
  ['client_id', 'clientId'],
] as const;

/** Longest contract string (city, state, role, client_id) accepted, after trimming. */
const MAX_CONTRACT_FIELD_CHARS = 256;

/**
 * Reads a fill contract from `context`. Returns the first ill-typed field as a problem
 * (`target_count` must be a positive integer; `city`, `state`, `role`, `client_id` strings of at
 * most {@link MAX_CONTRACT_FIELD_CHARS} characters once trimmed, and kept trimmed). Unknown keys
 * are ignored. Never throws.
 */
export function parseFillContext(
  context: Record<string, unknown>,
):
  | { contract: FillContract; problem?: undefined }
  | { contract?: undefined; problem: ContextProblem } {
  const contract: FillContract = {};
  const target = context['target_count'];
  if (target !== undefined && target !== null) {
    // Zero workers is no staffing request: an empty fill would be "grounded" in nothing.
    if (typeof target !== 'number' || !Number.isSafeInteger(target) || target < 1) {
      return {
        problem: {
          field: 'context.target_count',
          message: 'context.target_count must be a positive integer',
        },
      };
    }
    contract.targetCount = target;
  }
  for (const [key, prop] of STRING_FIELDS) {
    const value = context[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      return { problem: { field: `context.${key}`, message: `context.${key} must be a string` } };
    }
    const trimmed = value.trim();
    if (trimmed.length > MAX_CONTRACT_FIELD_CHARS) {
      return {
        problem: {
          field: `context.${key}`,
          message: `context.${key} must be at most ${MAX_CONTRACT_FIELD_CHARS} characters`,
        },
      };
    }
    if (trimmed !== '') contract[prop] = trimmed;
  }
  return { contract };
}

function sameName(a: string, b: string): boolean {
  const norm = (s: string): string => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
  return norm(a) === norm(b);
}

/**
 * Validates a fill artifact `{fills:[{candidate_id, name}]}` against the roster and the contract
 * in `context` (SPEC §2 FillValidator). Ill-typed context fields are ignored here (routes reject
 * them with 400 first). A roster that is not ready fails every existence check. Never throws.
 */
export function validateFill(
  artifact: unknown,
  context: Record<string, unknown>,
  roster: RosterView,
): ValidationReport {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const parsed = parseFillContext(context);
  const contract = parsed.contract ?? {};

  if (!isPlainObject(artifact)) {
    errors.push({ category: 'schema', message: 'artifact must be a JSON object' });
    return makeReport(errors, warnings, false);
  }
  const fills = artifact['fills'];
  if (!Array.isArray(fills)) {
    errors.push({ category: 'schema', message: 'fills must be an array', field: 'fills' });
    return makeReport(errors, warnings, false);
  }

  if (contract.targetCount !== undefined) {
    if (fills.length !== contract.targetCount) {
      errors.push({
        category: 'completeness',
        message: `expected ${contract.targetCount} fills (context.target_count), got ${fills.length}`,
        field: 'fills',
      });
    }
  } else if (fills.length === 0) {
    errors.push({ category: 'completeness', message: 'fills must not be empty', field: 'fills' });
  }

  // Grounded means every proposed candidate resolved; no candidates ground nothing.
  let grounded = roster.ready && fills.length > 0;
  const firstIndex = new Map<string, number>();
  fills.forEach((fill: unknown, i) => {
    const at = `fills[${i}]`;
    if (!isPlainObject(fill)) {
      errors.push({ category: 'schema', message: `${at} must be an object`, field: at });
      grounded = false;
      return;
    }
    const rawId = fill['candidate_id'];
    const name = fill['name'];
    const idField = `${at}.candidate_id`;
    if (!isNonEmptyString(rawId)) {
      errors.push({
        category: 'schema',
        message: `${idField} must be a non-empty string`,
        field: idField,
      });
      grounded = false;
      return;
    }
    if (name !== undefined && typeof name !== 'string') {
      errors.push({
        category: 'schema',
        message: `${at}.name must be a string`,
        field: `${at}.name`,
      });
    }

    // The model's id as messages quote it: bounded, so no reply can make the report huge.
    const id = boundText(rawId, MAX_MESSAGE_VALUE_CHARS);
    const seen = firstIndex.get(rawId);
    if (seen !== undefined) {
      errors.push({
        category: 'consistency',
        message: `candidate_id ${id} appears more than once (fills[${seen}] and ${at})`,
        field: idField,
      });
      return;
    }
    firstIndex.set(rawId, i);

    if (!roster.ready) {
      errors.push({
        category: 'consistency',
        // Why it is not loaded (a file path, a DuckDB error) is the operator's, in the log.
        message: `candidate_id ${id} cannot be checked: the roster is not loaded`,
        field: idField,
      });
      grounded = false;
      return;
    }
    const worker = roster.get(rawId);
    if (worker === undefined) {
      errors.push({
        category: 'consistency',
        message: `candidate_id ${id} not in roster`,
        field: idField,
      });
      grounded = false;
      return;
    }
    checkWorker(worker, id, idField, contract, errors);
    if (typeof name === 'string' && !sameName(name, worker.name)) {
      warnings.push({
        category: 'consistency',
        message: `${at}.name "${boundText(name, MAX_MESSAGE_VALUE_CHARS)}" differs from roster name "${worker.name}" for ${id}`,
        field: `${at}.name`,
      });
    }
  });

  return makeReport(errors, warnings, grounded);
}

// The roster package decides whether a worker fits; this only words each mismatch.
function checkWorker(
  worker: Worker,
  id: string,
  field: string,
  contract: FillContract,
  errors: ValidationIssue[],
): void {
  for (const mismatch of contractMismatches(worker, contract)) {
    errors.push({
      category: mismatch.rule === 'blacklisted' ? 'policy' : 'consistency',
      message: mismatchMessage(id, mismatch),
      field,
    });
  }
}

function mismatchMessage(id: string, mismatch: ContractMismatch): string {
  switch (mismatch.rule) {
    case 'inactive':
      return `candidate_id ${id} is not active (availability ${mismatch.availability})`;
    // The contract's own values are the caller's and are never repeated per error.
    case 'city':
    case 'state':
      return `candidate_id ${id} is in ${mismatch.rule} ${mismatch.actual}, not the contract's ${mismatch.rule}`;
    case 'role':
      return `candidate_id ${id} has role ${mismatch.actual}, not the contract's role`;
    case 'blacklisted':
      return `candidate_id ${id} has blacklisted the contract's client`;
  }
}
