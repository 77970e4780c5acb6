import type { Request, RequestHandler, Response } from 'express';
import { trace } from '@opentelemetry/api';
import type { Counter } from '@opentelemetry/api';
import { LAKEHOUSE_ATTRIBUTES as LH } from '@lakehouse/langfuse-processor';
import { requestTrace, startSpan } from '@lakehouse/telemetry';
import { HttpError } from '../http-error.js';
import { parseValidateRequest } from '../iterate-request.js';
import { validateArtifact } from '../validators/validate-artifact.js';
import type { RosterView } from '../validators/types.js';

const tracer = trace.getTracer('gateway');

/** What the `POST /v1/validate` handler needs. */
export interface ValidateRouteOptions {
  roster: RosterView;
  /** `lakehouse.validation.failures`, by category and kind. */
  failures: Counter;
}

/**
 * `POST /v1/validate`: 200 `{ok:true, warnings, grounded_in_roster}`, 422 `{ok:false, errors,
 * warnings}`, 400 on a bad body or kind. Counts each error in `lakehouse.validation.failures`.
 */
export function validateRoute(options: ValidateRouteOptions): RequestHandler {
  const { roster, failures } = options;
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
      const report = validateArtifact(kind, artifact, context, roster);
      span.setAttributes({
        [LH.VALIDATE_KIND]: kind,
        [LH.VALIDATE_OK]: report.ok,
        [LH.VALIDATE_REPORT]: JSON.stringify(report),
      });
      for (const e of report.errors) failures.add(1, { category: e.category, kind });
      if (report.ok) {
        res.status(200).json({
          ok: true,
          warnings: report.warnings,
          grounded_in_roster: report.grounded_in_roster,
        });
      } else {
        res.status(422).json({ ok: false, errors: report.errors, warnings: report.warnings });
      }
    } finally {
      span.end();
    }
  };
}
