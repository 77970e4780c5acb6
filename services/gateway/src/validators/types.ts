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

/** Most errors (and, separately, warnings) a report shows anywhere; the rest are only counted. */
const MAX_REPORT_ISSUES = 50;

/** Longest model- or client-supplied value (a candidate id, a name) quoted in a message. */
export const MAX_MESSAGE_VALUE_CHARS = 64;

/**
 * A report as it leaves the validator (response body, span): at most {@link MAX_REPORT_ISSUES}
 * errors and warnings; `omitted_errors` / `omitted_warnings` count the rest (absent when none).
 */
export interface BoundedReport extends ValidationReport {
  omitted_errors?: number;
  omitted_warnings?: number;
}

/** The bounded form of `report` (see {@link BoundedReport}); `report` itself is unchanged. */
export function boundReport(report: ValidationReport): BoundedReport {
  if (report.errors.length <= MAX_REPORT_ISSUES && report.warnings.length <= MAX_REPORT_ISSUES)
    return report;
  const bounded: BoundedReport = {
    ...report,
    errors: report.errors.slice(0, MAX_REPORT_ISSUES),
    warnings: report.warnings.slice(0, MAX_REPORT_ISSUES),
  };
  if (report.errors.length > MAX_REPORT_ISSUES)
    bounded.omitted_errors = report.errors.length - MAX_REPORT_ISSUES;
  if (report.warnings.length > MAX_REPORT_ISSUES)
    bounded.omitted_warnings = report.warnings.length - MAX_REPORT_ISSUES;
  return bounded;
}

/** The part of `WorkerLookup` the validators use; `WorkerLookup` satisfies it. */
export interface RosterView {
  readonly ready: boolean;
  readonly error?: string | undefined;
  /** `error` without paths or reader messages (see `WorkerLookup.publicError`). */
  readonly publicError?: string | undefined;
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
