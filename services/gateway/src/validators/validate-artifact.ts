import { validateEmail } from './email.js';
import { validateFill } from './fill.js';
import { validatePlaybook } from './playbook.js';
import type { ArtifactKind, RosterView, ValidationReport } from './types.js';

/** Validates `artifact` of `kind` (fill against `roster` and the contract in `context`). Never throws. */
export function validateArtifact(
  kind: ArtifactKind,
  artifact: unknown,
  context: Record<string, unknown>,
  roster: RosterView,
): ValidationReport {
  switch (kind) {
    case 'fill':
      return validateFill(artifact, context, roster);
    case 'email':
      return validateEmail(artifact);
    case 'playbook':
      return validatePlaybook(artifact);
  }
}
