import type { ChatMessage } from './chat-provider.js';

// Markers of the prompt protocol (docs/architecture.md "Prompt protocol").
const REJECTED_MARKER = 'Your previous response was rejected';
const NO_JSON_MARKER = "wasn't valid JSON";
const NOT_IN_ROSTER_MARKER = 'not in roster';
const KIND_RE = /^Artifact kind:[ \t]*(\S+)[ \t]*$/m;
const CONTRACT_RE = /^Contract:[ \t]*(.*)$/m;

/** What the simulator reads from the last user message. */
export interface ParsedPrompt {
  text: string;
  kind: string | undefined;
  contract: Record<string, unknown>;
  attempt: number;
  jsonFeedback: boolean;
  notInRoster: boolean;
}

/** Reads the gateway's prompt protocol (docs/architecture.md) from the last user message. */
export function parsePrompt(messages: readonly ChatMessage[]): ParsedPrompt {
  let text = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m !== undefined && m.role === 'user') {
      text = m.content;
      break;
    }
  }
  const kind = KIND_RE.exec(text)?.[1]?.toLowerCase();
  let contract: Record<string, unknown> = {};
  const contractLine = CONTRACT_RE.exec(text)?.[1];
  if (contractLine !== undefined) {
    try {
      const parsed: unknown = JSON.parse(contractLine);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        contract = parsed as Record<string, unknown>;
      }
    } catch {
      // A malformed contract line reads as an empty contract.
    }
  }
  const rejected = count(text, REJECTED_MARKER);
  const noJson = count(text, NO_JSON_MARKER);
  // Only the feedback part counts, so a user prompt that mentions the phrase changes nothing.
  const firstFeedback = firstIndex(text, [REJECTED_MARKER, "Your response wasn't valid JSON"]);
  const feedback = firstFeedback < 0 ? '' : text.slice(firstFeedback);
  return {
    text,
    kind,
    contract,
    attempt: rejected + noJson,
    jsonFeedback: noJson > 0,
    notInRoster: feedback.includes(NOT_IN_ROSTER_MARKER),
  };
}

/** A contract field as text: a non-blank string, or a finite number written out. */
export function stringField(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

function firstIndex(text: string, needles: readonly string[]): number {
  let best = -1;
  for (const needle of needles) {
    const i = text.indexOf(needle);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}
