import { setTimeout as sleep } from 'node:timers/promises';
import { satisfiesContract } from '@lakehouse/roster';
import type { Worker, WorkerContract, WorkerLookup } from '@lakehouse/roster';
import { SIM_PROVIDER_NAME } from '../config.js';
import { ProviderError } from '../errors.js';
import type { ChatMessage, ChatProvider, ChatRequest, ChatResult } from './chat-provider.js';
import { estimateTokens } from './chat-provider.js';

/** Behaviours selected by the model name (docs/architecture.md "sim modes"); others use the rate. */
export const SIM_MODES = [
  'clean',
  'phantom-once',
  'phantom-always',
  'prose-once',
  'prose-always',
] as const;

/** The part of the roster the simulator reads. */
export type SimRoster = Pick<WorkerLookup, 'ready' | 'error' | 'find' | 'phantomId'>;

/** Options for {@link SimProvider}. */
export interface SimProviderOptions {
  /** The same roster the gateway validates against. */
  roster: SimRoster;
  /** Share (0..1) of first attempts that get a phantom under non-mode model names. Default 0.3. */
  phantomRate?: number;
  /** Delay before each answer; aborted by the request's signal. Default 0. */
  latencyMs?: number;
}

// Markers of the prompt protocol (docs/architecture.md "Prompt protocol").
const REJECTED_MARKER = 'Your previous response was rejected';
const NO_JSON_MARKER = "wasn't valid JSON";
const NOT_IN_ROSTER_MARKER = 'not in roster';
const KIND_RE = /^Artifact kind:[ \t]*(\S+)[ \t]*$/m;
const CONTRACT_RE = /^Contract:[ \t]*(.*)$/m;

const MAX_FILLS = 500;
const PHANTOM_NAMES = [
  'Jordan Reyes',
  'Casey Morgan',
  'Taylor Brooks',
  'Riley Chen',
  'Avery Patel',
];
const PLAYBOOK_STEPS = [
  'Confirm the contract scope, headcount and start date with the client',
  'Shortlist active workers in the contract city whose role matches',
  'Exclude anyone who has blacklisted the client',
  'Call shortlisted workers to confirm availability for the shift pattern',
  'Send confirmations and site instructions to each placed worker',
  'Check in with the client after the first shift and log feedback',
];

/** What the simulator reads from the last user message. */
interface ParsedPrompt {
  text: string;
  kind: string | undefined;
  contract: Record<string, unknown>;
  attempt: number;
  jsonFeedback: boolean;
  notInRoster: boolean;
}

/**
 * The deterministic offline simulator (no network): answers the gateway's prompt protocol from
 * the roster, with phantom and prose failure modes chosen by the model name. Its output is a
 * pure function of (model, messages, roster, options).
 */
export class SimProvider implements ChatProvider {
  readonly name = SIM_PROVIDER_NAME;
  readonly type = 'sim';
  private readonly _roster: SimRoster;
  private readonly _phantomRate: number;
  private readonly _latencyMs: number;

  constructor(options: SimProviderOptions) {
    this._roster = options.roster;
    this._phantomRate = options.phantomRate ?? 0.3;
    this._latencyMs = options.latencyMs ?? 0;
  }

  async chat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    signal.throwIfAborted();
    if (this._latencyMs > 0) await sleep(this._latencyMs, undefined, { signal });
    const content = this.answer(request.model, request.messages);
    return {
      model: request.model,
      content,
      finishReason: 'stop',
      usage: {
        inputTokens: estimateTokens(request.messages.map((m) => m.content).join('')),
        outputTokens: estimateTokens(content),
      },
    };
  }

  /** The answer text, synchronously. Throws {@link ProviderError} for a fill with no roster. */
  answer(model: string, messages: readonly ChatMessage[]): string {
    const seed = fnv1a32(`${model}\u0000${JSON.stringify(messages)}`);
    const p = parsePrompt(messages);
    const wantsJson = this._wantsJson(model, p);

    switch (p.kind) {
      case 'fill': {
        const fill = this._fill(p.contract);
        if (!wantsJson) return fillProse(p.contract);
        if (this._wantsPhantom(model, p, seed)) this._addPhantom(fill.fills, seed);
        return fillAnswer(fill.fills, fill.requested, p.contract);
      }
      case 'email':
        return wantsJson ? emailAnswer(p) : proseOnly('an email', p);
      case 'playbook':
        return wantsJson ? playbookAnswer(p, seed) : proseOnly('a playbook', p);
      case undefined:
        return (
          `This is the sim provider, an offline simulator (not a model). It received ` +
          `${messages.length} message(s) for model "${model}" but no "Artifact kind:" line, ` +
          `so there is nothing to produce. Send the gateway's prompt protocol to get an artifact.`
        );
      default:
        return (
          `This is the sim provider, an offline simulator (not a model). It does not know the ` +
          `artifact kind "${p.kind}"; it answers fill, email and playbook prompts.`
        );
    }
  }

  private _wantsJson(model: string, p: ParsedPrompt): boolean {
    if (model === 'prose-always') return false;
    if (model === 'prose-once') return p.jsonFeedback;
    return true;
  }

  private _wantsPhantom(model: string, p: ParsedPrompt, seed: number): boolean {
    if (model === 'phantom-always') return true;
    // Every other mode drops the phantom once the validator named it.
    if (p.notInRoster) return false;
    if (model === 'phantom-once') return true;
    if ((SIM_MODES as readonly string[]).includes(model)) return false;
    // A separate hash decides, so the decision does not correlate with the phantom's id.
    return p.attempt === 0 && fnv1a32(`phantom:${seed}`) / 2 ** 32 < this._phantomRate;
  }

  private _fill(contract: Record<string, unknown>): {
    fills: { candidate_id: string; name: string }[];
    requested: number;
  } {
    if (!this._roster.ready) {
      throw new ProviderError(
        502,
        `provider "sim" cannot answer fill prompts: roster not loaded` +
          (this._roster.error !== undefined ? ` (${this._roster.error})` : ''),
        'roster_unavailable',
      );
    }
    const requested = targetCount(contract);
    const wanted: WorkerContract = {
      city: stringField(contract, 'city'),
      state: stringField(contract, 'state'),
      role: stringField(contract, 'role'),
      clientId: stringField(contract, 'client_id'),
    };
    const filter = {
      activeOnly: true,
      ...optional('city', wanted.city),
      ...optional('state', wanted.state),
      ...optional('role', wanted.role),
    };
    const picked: Worker[] = [];
    const pageSize = Math.max(32, requested * 2);
    // Bounded paging: a pathological roster where everyone blacklisted the client stops here.
    for (let page = 0; page < 50 && picked.length < requested; page++) {
      const batch = this._roster.find(filter, pageSize, page * pageSize);
      for (const w of batch) {
        // The validator's own rule (roster package), so sim never proposes a worker it rejects.
        if (!satisfiesContract(w, wanted)) continue;
        picked.push(w);
        if (picked.length >= requested) break;
      }
      if (batch.length < pageSize) break;
    }
    return {
      fills: picked.map((w) => ({ candidate_id: w.candidateId, name: w.name })),
      requested,
    };
  }

  private _addPhantom(fills: { candidate_id: string; name: string }[], seed: number): void {
    const phantom = {
      candidate_id: this._roster.phantomId(seed),
      name: PHANTOM_NAMES[seed % PHANTOM_NAMES.length] ?? 'Jordan Reyes',
    };
    if (fills.length === 0) fills.push(phantom);
    else fills[seed % fills.length] = phantom;
  }
}

function parsePrompt(messages: readonly ChatMessage[]): ParsedPrompt {
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

function fillAnswer(
  fills: readonly { candidate_id: string; name: string }[],
  requested: number,
  contract: Record<string, unknown>,
): string {
  const where = describeContract(contract);
  const intro =
    fills.length >= requested
      ? `Here ${requested === 1 ? 'is' : 'are'} ${requested} available ${where}.`
      : `Only ${fills.length} of the ${requested} requested ${where} are available.`;
  const json = JSON.stringify({ fills }, null, 2);
  return `${intro}\n\n\`\`\`json\n${json}\n\`\`\`\n\nEach candidate was checked for availability and client restrictions.`;
}

function fillProse(contract: Record<string, unknown>): string {
  return (
    `I looked through the roster for ${describeContract(contract)} and found several strong ` +
    `candidates. I would start with the workers who have the most availability this week and ` +
    `confirm each of them with a call before placing them.`
  );
}

function emailAnswer(p: ParsedPrompt): string {
  const to =
    stringField(p.contract, 'to') ??
    stringField(p.contract, 'email') ??
    'hiring-manager@example.com';
  const topic = firstLine(p.text) || 'Staffing update';
  const artifact = {
    to,
    subject: truncate(topic, 78),
    body: `Hello,\n\n${topic}\n\nPlease reply to this email with any questions.\n\nBest regards,\nLakehouse Staffing`,
  };
  return `Here is the email.\n\n\`\`\`json\n${JSON.stringify(artifact, null, 2)}\n\`\`\``;
}

function playbookAnswer(p: ParsedPrompt, seed: number): string {
  const steps: string[] = [];
  const n = 3 + (seed % 3);
  for (let i = 0; i < n; i++) steps.push(PLAYBOOK_STEPS[i] ?? '');
  const artifact = { title: truncate(firstLine(p.text) || 'Staffing playbook', 80), steps };
  return `Here is the playbook.\n\n\`\`\`json\n${JSON.stringify(artifact, null, 2)}\n\`\`\``;
}

function proseOnly(what: string, p: ParsedPrompt): string {
  return (
    `Sure, I can draft ${what} about "${truncate(firstLine(p.text), 60)}". It should be short, ` +
    `friendly and specific, and it should end with a clear next step for the reader.`
  );
}

function describeContract(contract: Record<string, unknown>): string {
  const role = stringField(contract, 'role') ?? 'worker';
  const city = stringField(contract, 'city');
  const state = stringField(contract, 'state');
  const place = [city, state].filter((x) => x !== undefined).join(', ');
  const client = stringField(contract, 'client_id');
  return (
    `${role} candidates` +
    (place !== '' ? ` in ${place}` : '') +
    (client !== undefined ? ` for client ${client}` : '')
  );
}

function targetCount(contract: Record<string, unknown>): number {
  const n = contract['target_count'];
  if (typeof n !== 'number' || !Number.isFinite(n)) return 1;
  return Math.min(MAX_FILLS, Math.max(0, Math.trunc(n)));
}

function stringField(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
}

function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
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

/** 32-bit FNV-1a over the UTF-16 code units; stable across runs and platforms. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
