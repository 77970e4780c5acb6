import { parseFillContext } from './validators/fill.js';
import { isArtifactKind, isPlainObject, ARTIFACT_KINDS } from './validators/types.js';
import type { ArtifactKind } from './validators/types.js';

/** A validated `POST /v1/iterate` request with defaults applied (SPEC §2). */
export interface IterateRequest {
  kind: ArtifactKind;
  prompt: string;
  system: string | undefined;
  provider: string;
  model: string;
  context: Record<string, unknown>;
  maxIterations: number;
  temperature: number;
  maxTokens: number;
}

/** A validated `POST /v1/validate` request. */
export interface ValidateRequest {
  kind: ArtifactKind;
  artifact: unknown;
  context: Record<string, unknown>;
}

/** Request defaults of SPEC §2. */
const ITERATE_DEFAULTS = {
  maxIterations: 3,
  temperature: 0.2,
  maxTokens: 4096,
} as const;

/** Longest `provider` and `model` accepted: they name spans and become labels and attributes. */
const MAX_NAME_CHARS = 256;

/** Result of parsing a request body: the request, or an error naming the offending field. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; error: string };

function fail<T>(field: string, error: string): Parsed<T> {
  return { ok: false, field, error };
}

function parseKind(body: Record<string, unknown>): Parsed<ArtifactKind> {
  const kind = body['kind'];
  if (kind === undefined) return fail('kind', 'kind is required');
  if (!isArtifactKind(kind)) {
    return fail('kind', `kind must be one of ${ARTIFACT_KINDS.join(', ')}, got ${describe(kind)}`);
  }
  return { ok: true, value: kind };
}

/** Deepest `context` accepted: it is serialised into every prompt and span, recursively. */
const MAX_CONTEXT_DEPTH = 32;

// Iterative, so a hostile 100,000-level value cannot overflow the stack while being checked.
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

function parseContext(
  body: Record<string, unknown>,
  kind: ArtifactKind,
): Parsed<Record<string, unknown>> {
  const context = body['context'];
  if (context === undefined || context === null) return { ok: true, value: {} };
  if (!isPlainObject(context)) return fail('context', 'context must be a JSON object');
  if (nestsDeeperThan(context, MAX_CONTEXT_DEPTH)) {
    return fail('context', `context must not nest deeper than ${MAX_CONTEXT_DEPTH} levels`);
  }
  if (kind === 'fill') {
    const parsed = parseFillContext(context);
    if (parsed.problem !== undefined) return fail(parsed.problem.field, parsed.problem.message);
  }
  return { ok: true, value: context };
}

// Safe rendering of a bad value for error messages: client strings are never echoed back.
function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

// A numeric field, defaulted when absent or null; `valid` decides, `wanted` words the error.
function numberField(
  body: Record<string, unknown>,
  key: string,
  fallback: number,
  valid: (n: number) => boolean,
  wanted: string,
): Parsed<number> {
  const value = body[key] ?? fallback;
  if (typeof value !== 'number' || !valid(value)) {
    return fail(key, `${key} must be ${wanted}, got ${describe(value)}`);
  }
  return { ok: true, value };
}

/** Validates and defaults an iterate request body. Never throws. */
export function parseIterateRequest(body: unknown): Parsed<IterateRequest> {
  if (!isPlainObject(body)) return fail('body', 'request body must be a JSON object');
  const kind = parseKind(body);
  if (!kind.ok) return kind;

  const prompt = body['prompt'];
  if (typeof prompt !== 'string') return fail('prompt', 'prompt is required and must be a string');
  const system = body['system'];
  if (system !== undefined && system !== null && typeof system !== 'string') {
    return fail('system', 'system must be a string');
  }
  const provider = body['provider'];
  if (typeof provider !== 'string' || provider.trim() === '') {
    return fail('provider', 'provider is required and must be a non-empty string');
  }
  if (provider.length > MAX_NAME_CHARS) {
    return fail(
      'provider',
      `provider must be at most ${MAX_NAME_CHARS} characters, got ${describe(provider)}`,
    );
  }
  const model = body['model'];
  if (typeof model !== 'string' || model.trim() === '') {
    return fail('model', 'model is required and must be a non-empty string');
  }
  if (model.length > MAX_NAME_CHARS) {
    return fail(
      'model',
      `model must be at most ${MAX_NAME_CHARS} characters, got ${describe(model)}`,
    );
  }
  const context = parseContext(body, kind.value);
  if (!context.ok) return context;

  const maxIterations = numberField(
    body,
    'max_iterations',
    ITERATE_DEFAULTS.maxIterations,
    (n) => Number.isInteger(n) && n >= 1 && n <= 10,
    'an integer from 1 to 10',
  );
  if (!maxIterations.ok) return maxIterations;
  const temperature = numberField(
    body,
    'temperature',
    ITERATE_DEFAULTS.temperature,
    (n) => Number.isFinite(n) && n >= 0 && n <= 2,
    'a number from 0 to 2',
  );
  if (!temperature.ok) return temperature;
  const maxTokens = numberField(
    body,
    'max_tokens',
    ITERATE_DEFAULTS.maxTokens,
    (n) => Number.isSafeInteger(n) && n >= 1,
    'a positive integer',
  );
  if (!maxTokens.ok) return maxTokens;
  return {
    ok: true,
    value: {
      kind: kind.value,
      prompt,
      system: typeof system === 'string' ? system : undefined,
      provider,
      model,
      context: context.value,
      maxIterations: maxIterations.value,
      temperature: temperature.value,
      maxTokens: maxTokens.value,
    },
  };
}

/** Validates a validate request body `{kind, artifact, context?}`. Never throws. */
export function parseValidateRequest(body: unknown): Parsed<ValidateRequest> {
  if (!isPlainObject(body)) return fail('body', 'request body must be a JSON object');
  const kind = parseKind(body);
  if (!kind.ok) return kind;
  if (!('artifact' in body) || body['artifact'] === undefined) {
    return fail('artifact', 'artifact is required');
  }
  const context = parseContext(body, kind.value);
  if (!context.ok) return context;
  return {
    ok: true,
    value: { kind: kind.value, artifact: body['artifact'], context: context.value },
  };
}
