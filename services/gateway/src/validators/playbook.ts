import { isNonEmptyString, isPlainObject, makeReport } from './types.js';
import type { ValidationIssue, ValidationReport } from './types.js';

/**
 * Validates a playbook artifact's structure: `title` a non-empty string, `steps` a non-empty
 * array of non-empty strings. `grounded_in_roster` is null. Never throws.
 */
export function validatePlaybook(artifact: unknown): ValidationReport {
  const errors: ValidationIssue[] = [];
  if (!isPlainObject(artifact)) {
    errors.push({ category: 'schema', message: 'artifact must be a JSON object' });
    return makeReport(errors, [], null);
  }
  if (!isNonEmptyString(artifact['title'])) {
    errors.push({
      category: 'schema',
      message: 'title must be a non-empty string',
      field: 'title',
    });
  }
  const steps = artifact['steps'];
  if (!Array.isArray(steps)) {
    errors.push({ category: 'schema', message: 'steps must be an array', field: 'steps' });
  } else if (steps.length === 0) {
    errors.push({ category: 'schema', message: 'steps must not be empty', field: 'steps' });
  } else {
    steps.forEach((step: unknown, i) => {
      if (!isNonEmptyString(step)) {
        errors.push({
          category: 'schema',
          message: `steps[${i}] must be a non-empty string`,
          field: `steps[${i}]`,
        });
      }
    });
  }
  return makeReport(errors, [], null);
}
