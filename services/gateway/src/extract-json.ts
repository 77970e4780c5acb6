/** Only this many leading characters of a reply are searched; a model reply past 1 MiB is not an artifact. */
export const MAX_EXTRACT_CHARS = 1 << 20;

// Total characters the brace scanner may step over across all candidates. Bounds the
// worst case (many unbalanced '{') to a few milliseconds instead of O(n^2).
const SCAN_BUDGET = 4 * MAX_EXTRACT_CHARS;
const MAX_PARSE_ATTEMPTS = 256;
const FENCE = '```';
const MAX_FENCED_BLOCKS = 64;

/**
 * Most containers an artifact may nest, itself included: serde_json (the Rust gateway, whose
 * session log we match) refuses the 128th. Deeper replies are refused up front, so every
 * accepted artifact fits the session row.
 */
export const MAX_JSON_NESTING = 127;

interface ScanState {
  budget: number;
  parses: number;
  tooDeep: boolean;
}

/** An extracted artifact and the exact JSON text it was parsed from. */
export interface ExtractedJson {
  object: Record<string, unknown>;
  /** The text JSON.parse read: the session log keeps its numbers exactly. */
  source: string;
}

/** What {@link extractJson} found: the artifact, or why there is none (for the attempt's error). */
export type ExtractResult = ({ ok: true } & ExtractedJson) | { ok: false; reason: string };

/**
 * Finds the JSON object in an LLM reply: a ```json fenced block first, then any fenced block,
 * then the whole text, then the first balanced `{...}` in prose that parses. Returns only plain
 * objects (never arrays or primitives) nested at most {@link MAX_JSON_NESTING} levels, with
 * their source text. Never throws; work is bounded.
 */
export function extractJson(text: string): ExtractResult {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, reason: NO_JSON };
  const input = text.length > MAX_EXTRACT_CHARS ? text.slice(0, MAX_EXTRACT_CHARS) : text;
  const state: ScanState = { budget: SCAN_BUDGET, parses: 0, tooDeep: false };

  const blocks = fencedBlocks(input);
  // A block tagged json is the model's stated answer; other fences may hold examples or code.
  const ordered = [...blocks.filter((b) => b.json), ...blocks.filter((b) => !b.json)];
  let found: ExtractedJson | null | undefined;
  for (const block of ordered) {
    found = fromSegment(block.body, state);
    if (found !== undefined) break;
  }
  if (found === undefined) found = fromSegment(input, state);
  if (found !== undefined && found !== null) return { ok: true, ...found };
  if (state.tooDeep) return { ok: false, reason: TOO_DEEP };
  return { ok: false, reason: input === text ? NO_JSON : notInWindow(text.length) };
}

/** {@link extractJson}'s object, or undefined when there is none. */
export function extractJsonObject(text: string): Record<string, unknown> | undefined {
  const found = extractJson(text);
  return found.ok ? found.object : undefined;
}

const NO_JSON = 'no JSON object found in the response';
// A reply past the window may hold an object further on; say what was searched.
const notInWindow = (length: number): string =>
  `no complete JSON object in the first ${MAX_EXTRACT_CHARS} characters of the response (it has ${length}; only that many are searched)`;
const TOO_DEEP = `the JSON object in the response nests deeper than ${MAX_JSON_NESTING} levels`;

// undefined = nothing here, keep looking; null = the segment is JSON of the wrong shape, stop.
function fromSegment(segment: string, state: ScanState): ExtractedJson | null | undefined {
  const trimmed = segment.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    const whole = tryParseObject(trimmed, state);
    if (whole !== undefined) return whole;
  } else if (trimmed.startsWith('[') && trimmed.endsWith(']') && parses(trimmed, state)) {
    // A whole JSON array is an answer of the wrong shape; do not pick an element out of it.
    return null;
  }
  return scanBalanced(segment, state);
}

function parses(candidate: string, state: ScanState): boolean {
  state.parses++;
  state.budget -= candidate.length;
  try {
    JSON.parse(candidate);
    return true;
  } catch {
    return false;
  }
}

interface FencedBlock {
  body: string;
  json: boolean;
}

// indexOf-based instead of a lazy regex so an unterminated fence cannot cost more than one pass.
function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let from = 0;
  while (blocks.length < MAX_FENCED_BLOCKS) {
    const open = text.indexOf(FENCE, from);
    if (open < 0) break;
    const close = text.indexOf(FENCE, open + FENCE.length);
    if (close < 0) break;
    const inner = text.slice(open + FENCE.length, close);
    // The info string ("json", "JSON", "jsonc") sits on the fence line; a one-line fence has none.
    const newline = inner.indexOf('\n');
    let info = '';
    let body = inner;
    if (newline >= 0) {
      const candidate = inner.slice(0, newline).trim().toLowerCase();
      if (/^[a-z0-9_+.-]*$/.test(candidate)) {
        info = candidate;
        body = inner.slice(newline + 1);
      }
    }
    blocks.push({ body, json: info.startsWith('json') });
    from = close + FENCE.length;
  }
  return blocks;
}

// Scans from each '{' to its balanced '}' (string- and escape-aware) and returns the first
// candidate that parses to a plain object. Nested objects are tried when the outer one fails.
function scanBalanced(text: string, state: ScanState): ExtractedJson | null | undefined {
  let start = text.indexOf('{');
  while (start >= 0 && state.budget > 0 && state.parses < MAX_PARSE_ATTEMPTS) {
    const end = matchingBrace(text, start, state);
    if (end < 0) {
      // Unbalanced to the end of text from here: an inner '{' may still close.
    } else {
      const found = tryParseObject(text.slice(start, end + 1), state);
      if (found !== undefined) return found;
    }
    start = text.indexOf('{', start + 1);
  }
  return undefined;
}

function matchingBrace(text: string, start: number, state: ScanState): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    if (--state.budget <= 0) return -1;
    const ch = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === 0x5c /* \ */) escaped = true;
      else if (ch === 0x22 /* " */) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b /* { */) depth++;
    else if (ch === 0x7d /* } */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

// null = JSON too deep to accept: the answer, refused (its inner objects are not tried).
function tryParseObject(candidate: string, state: ScanState): ExtractedJson | null | undefined {
  state.parses++;
  state.budget -= candidate.length;
  let value: unknown;
  try {
    value = JSON.parse(candidate);
  } catch {
    return undefined; // not JSON; the caller tries the next candidate
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (nestsDeeper(value, MAX_JSON_NESTING)) {
    state.tooDeep = true;
    return null;
  }
  return { object: value as Record<string, unknown>, source: candidate };
}

// True when `value` holds more than `levels` nested containers (itself included). Stops at
// the first too-deep branch, so it recurses at most `levels + 1` frames.
function nestsDeeper(value: object, levels: number): boolean {
  if (levels === 0) return true;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof inner === 'object' && inner !== null && nestsDeeper(inner as object, levels - 1)) {
      return true;
    }
  }
  return false;
}
