/** Default cap on a span attribute value (characters) when no OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT is set. */
export const DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT = 256 * 1024;
