import type { Worker } from '@lakehouse/roster';

/** Artifact kinds the gateway can generate and validate. */
export const ARTIFACT_KINDS = ['fill', 'email', 'playbook'] as const;

/** One of {@link ARTIFACT_KINDS}. */
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** True when `value` names an artifact kind. */
export function isArtifactKind(value: unknown): value is ArtifactKind {
  return typeof value === 'string' && (ARTIFACT_KINDS as readonly string[]).includes(value);
}

/** Error categories of SPEC §2. */
export type ValidationCategory = 'schema' | 'completeness' | 'consistency' | 'policy';

/** One problem with an artifact; `field` is a path into the artifact such as `fills[2].candidate_id`. */
export interface ValidationIssue {
  category: ValidationCategory;
  message: string;
  field?: string;
}

/** Result of validating one artifact. `ok` iff `errors` is empty; warnings never fail an artifact. */
export interface ValidationReport {
  ok: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** fill: every candidate resolved through the roster; email/playbook: null. */
  grounded_in_roster: boolean | null;
}

/** The part of `WorkerLookup` the validators use; `WorkerLookup` satisfies it. */
export interface RosterView {
  readonly ready: boolean;
  readonly error?: string | undefined;
  get(candidateId: string): Worker | undefined;
}

/** Builds a report from collected issues. */
export function makeReport(
  errors: ValidationIssue[],
  warnings: ValidationIssue[],
  grounded: boolean | null,
): ValidationReport {
  return { ok: errors.length === 0, errors, warnings, grounded_in_roster: grounded };
}

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a string with at least one non-whitespace character. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}
