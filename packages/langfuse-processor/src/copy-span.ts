import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { maskValue, sanitizeAttributes } from './mask.js';

/** How {@link copySpan} treats strings: the mask, content capture, and where mask errors go. */
export interface CopyOptions {
  readonly mask: (value: string) => string;
  readonly contentCapture: boolean;
  readonly onMaskError?: (err: unknown) => void;
}

/**
 * A frozen copy of an ended span with the given attributes and parent; event attributes and the
 * status message pass through the mask and content capture too (`memo`: texts already masked).
 * Never mutates `span`.
 */
export function copySpan(
  span: ReadableSpan,
  attributes: Attributes,
  parent: SpanContext | undefined,
  options: CopyOptions,
  memo?: Map<string, string>,
): ReadableSpan {
  const onMaskError = options.onMaskError ?? (() => undefined);
  const events: TimedEvent[] = span.events.map((event) => ({
    time: event.time,
    name: event.name,
    ...(event.attributes !== undefined
      ? {
          attributes: sanitizeAttributes(
            event.attributes,
            options.mask,
            options.contentCapture,
            onMaskError,
          ),
        }
      : {}),
    ...(event.droppedAttributesCount !== undefined
      ? { droppedAttributesCount: event.droppedAttributesCount }
      : {}),
  }));
  const status =
    span.status.message !== undefined
      ? {
          code: span.status.code,
          message: maskValue(span.status.message, options.mask, onMaskError, memo) as string,
        }
      : { code: span.status.code };

  const spanContext = span.spanContext();
  const copy: ReadableSpan = {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext: parent,
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes,
    links: span.links.slice(),
    events,
    duration: span.duration,
    ended: true,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
  return Object.freeze(copy);
}
