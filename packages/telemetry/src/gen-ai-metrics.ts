/** GenAI semconv bucket boundaries of `gen_ai.client.token.usage` (tokens). */
export const GEN_AI_TOKEN_USAGE_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** GenAI semconv bucket boundaries of `gen_ai.client.operation.duration` (seconds). */
export const GEN_AI_OPERATION_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

// The SDK default buckets (0..10000) suit neither seconds nor tokens: the GenAI instruments give
// these as advice, which the telemetry view honours.
