import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentTraceId } from './context-helpers.js';
import { recordTraceHeaderRejection } from './rejection-counter.js';
import { classifyTraceIdHeader, randomTraceId, TRACE_ID_HEADER } from './trace-id.js';

/** Response header carrying the trace id: SPEC §3 sends it lowercase on the wire, like requests. */
export const TRACE_ID_RESPONSE_HEADER = TRACE_ID_HEADER;

/** The parts of an Express request that {@link resolveTraceId} reads; Express's `req` fits. */
export type TraceIdRequest = IncomingMessage & {
  res?: { locals?: Record<string, unknown> } | undefined;
};

/** The parts of an Express response that {@link traceIdResponseHeader} uses. */
export type TraceIdResponse = ServerResponse & { locals?: Record<string, unknown> };

const fallbackIds = new WeakMap<IncomingMessage, string>();

/**
 * The request's trace id: the active span's, else (tracing off) a valid inbound
 * `x-lakehouse-trace-id`, else a fresh random id. The fallback is stored on `res.locals.traceId`
 * and reused for the rest of the request. Never throws.
 */
export function resolveTraceId(req: TraceIdRequest): string {
  const active = currentTraceId();
  if (active !== undefined) return active;
  const known = fallbackIds.get(req);
  if (known !== undefined) return known;
  let id: string | undefined;
  const raw = req.headers[TRACE_ID_HEADER];
  if (raw !== undefined) {
    const result = classifyTraceIdHeader(raw);
    if (result.ok) id = result.traceId;
    else recordTraceHeaderRejection(TRACE_ID_HEADER, result.reason);
  }
  id ??= randomTraceId();
  fallbackIds.set(req, id);
  const locals = req.res?.locals;
  if (locals !== undefined) locals['traceId'] = id;
  return id;
}

/**
 * Express middleware (mount first) that sets `X-Lakehouse-Trace-Id` on every response from
 * {@link resolveTraceId}, and stores the id on `res.locals.traceId`.
 */
export function traceIdResponseHeader(): (
  req: IncomingMessage,
  res: TraceIdResponse,
  next: (err?: unknown) => void,
) => void {
  return (req, res, next) => {
    const id = resolveTraceId(req as TraceIdRequest);
    if (res.locals !== undefined) res.locals['traceId'] = id;
    if (!res.headersSent) res.setHeader(TRACE_ID_RESPONSE_HEADER, id);
    next();
  };
}
