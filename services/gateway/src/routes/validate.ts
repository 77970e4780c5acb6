import type { Request, RequestHandler, Response } from 'express';
import { trace } from '@opentelemetry/api';
import type { Counter } from '@opentelemetry/api';
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import { requestTrace, startSpan } from '@lakehouse/telemetry';
import { HttpError } from '../http-error.js';
import { parseValidateRequest } from '../iterate-request.js';
import { validateArtifact } from '../validators/validate-artifact.js';
import { boundReport } from '../validators/types.js';
import type { BoundedReport, RosterView, ValidationCategory } from '../validators/types.js';

const tracer = trace.getTracer('gateway');

/** What the `POST /v1/validate` handler needs. */
export interface ValidateRouteOptions {
  roster: RosterView;
  /** `lakehouse.validation.failures`, by category and kind. */
  failures: Counter;
  /** False: the report on the span keeps categories and fields only (messages quote model output). */
  contentCapture: boolean;
}

// The report as the span may carry it with content capture off: no message texts.
function contentFreeReport(report: BoundedReport): Record<string, unknown> {
  const strip = (list: BoundedReport['errors']) =>
    list.map((i) =>
      i.field === undefined ? { category: i.category } : { category: i.category, field: i.field },
    );
  return { ...report, errors: strip(report.errors), warnings: strip(report.warnings) };
}

function omitted(report: BoundedReport): Record<string, number> {
  const out: Record<string, number> = {};
  if (report.omitted_errors !== undefined) out['omitted_errors'] = report.omitted_errors;
  if (report.omitted_warnings !== undefined) out['omitted_warnings'] = report.omitted_warnings;
  return out;
}

/**
 * `POST /v1/validate`: 200 `{ok:true, warnings, grounded_in_roster}`, 422 `{ok:false, errors,
 * warnings}`, 400 on a bad body or kind. Lists are bounded (`omitted_errors`/`omitted_warnings`
 * count the rest); every error is counted in `lakehouse.validation.failures`.
 */
export function validateRoute(options: ValidateRouteOptions): RequestHandler {
  const { roster, failures, contentCapture } = options;
  return (req: Request, res: Response) => {
    const parsed = parseValidateRequest(req.body);
    if (!parsed.ok) throw new HttpError(400, parsed.error, { body: { field: parsed.field } });
    const { kind, artifact, context } = parsed.value;
    const request = requestTrace(req);
    const span = startSpan(
      tracer,
      `validate ${kind}`,
      { attributes: { [LH.TRACE_ID_SOURCE]: request.source } },
      request.context,
    );
    try {
      const full = validateArtifact(kind, artifact, context, roster);
      const counts = new Map<ValidationCategory, number>();
      for (const e of full.errors) counts.set(e.category, (counts.get(e.category) ?? 0) + 1);
      for (const [category, n] of counts) failures.add(n, { category, kind });
      // Every sink below gets the bounded report.
      const report = boundReport(full);
      span.setAttributes({
        [LH.VALIDATE_KIND]: kind,
        [LH.VALIDATE_OK]: report.ok,
        [LH.VALIDATE_REPORT]: JSON.stringify(contentCapture ? report : contentFreeReport(report)),
      });
      if (report.ok) {
        res.status(200).json({
          ok: true,
          warnings: report.warnings,
          grounded_in_roster: report.grounded_in_roster,
          ...omitted(report),
        });
      } else {
        res.status(422).json({
          ok: false,
          errors: report.errors,
          warnings: report.warnings,
          ...omitted(report),
        });
      }
    } finally {
      span.end();
    }
  };
}
