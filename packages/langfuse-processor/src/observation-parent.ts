import { context, isValidSpanId, propagation, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

/** Baggage key carrying the caller's observation (span) id across a service hop. */
export const OBSERVATION_PARENT_BAGGAGE_KEY = 'langfuse.observation.parent_id';

/**
 * Runs `fn` in a context whose baggage carries the active span's id under
 * {@link OBSERVATION_PARENT_BAGGAGE_KEY}, so the W3C baggage propagator hands it to the callee.
 * Without a valid active span, `fn` runs in the current context unchanged. Returns fn's result.
 */
export function withObservationParent<T>(fn: () => T): T {
  const active = context.active();
  const spanId = trace.getSpan(active)?.spanContext().spanId;
  if (spanId === undefined || !isValidSpanId(spanId)) return fn();
  const baggage = (propagation.getBaggage(active) ?? propagation.createBaggage()).setEntry(
    OBSERVATION_PARENT_BAGGAGE_KEY,
    { value: spanId },
  );
  return context.with(propagation.setBaggage(active, baggage), fn);
}

/** The observation parent id carried in `ctx`'s baggage, when it is a valid span id. */
export function getObservationParentId(ctx: Context): string | undefined {
  const value = propagation.getBaggage(ctx)?.getEntry(OBSERVATION_PARENT_BAGGAGE_KEY)?.value;
  if (value === undefined) return undefined;
  const id = value.trim().toLowerCase();
  return isValidSpanId(id) ? id : undefined;
}
