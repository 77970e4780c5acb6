import { isNonEmptyString, isPlainObject, makeReport } from './types.js';
import type { ValidationIssue, ValidationReport } from './types.js';

/**
 * Validates an email artifact's structure: `to` a string containing '@', `subject` and `body`
 * non-empty strings. `grounded_in_roster` is null. Never throws.
 */
export function validateEmail(artifact: unknown): ValidationReport {
  const errors: ValidationIssue[] = [];
  if (!isPlainObject(artifact)) {
    errors.push({ category: 'schema', message: 'artifact must be a JSON object' });
    return makeReport(errors, [], null);
  }
  const to = artifact['to'];
  if (typeof to !== 'string' || !to.includes('@')) {
    errors.push({ category: 'schema', message: "to must be a string containing '@'", field: 'to' });
  }
  for (const key of ['subject', 'body'] as const) {
    if (!isNonEmptyString(artifact[key])) {
      errors.push({ category: 'schema', message: `${key} must be a non-empty string`, field: key });
    }
  }
  return makeReport(errors, [], null);
}
