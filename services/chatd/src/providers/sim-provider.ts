import { setTimeout as sleep } from 'node:timers/promises';
import { satisfiesContract } from '@lakehouse/roster';
import type { Worker, WorkerContract, WorkerLookup } from '@lakehouse/roster';
import { SIM_MODES, SIM_PROVIDER_NAME } from '../config.js';
import { ProviderError } from '../errors.js';
import type { ChatMessage, ChatProvider, ChatRequest, ChatResult } from './chat-provider.js';
import { estimateTokens } from './chat-provider.js';
import { emailAnswer, fillAnswer, fillProse, playbookAnswer, proseOnly } from './sim-answers.js';
import { parsePrompt, stringField } from './sim-prompt.js';
import type { ParsedPrompt } from './sim-prompt.js';

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

const MAX_FILLS = 500;
const PHANTOM_NAMES = [
  'Jordan Reyes',
  'Casey Morgan',
  'Taylor Brooks',
  'Riley Chen',
  'Avery Patel',
];
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

function targetCount(contract: Record<string, unknown>): number {
  const n = contract['target_count'];
  if (typeof n !== 'number' || !Number.isFinite(n)) return 1;
  return Math.min(MAX_FILLS, Math.max(0, Math.trunc(n)));
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
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
