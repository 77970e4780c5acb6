import type { ChatdConfig, ProviderConfig } from '../config.js';
import type { ChatProvider } from './chat-provider.js';
import { OllamaProvider } from './ollama-provider.js';
import { OpenAIProvider } from './openai-provider.js';
import { SimProvider } from './sim-provider.js';
import type { SimRoster } from './sim-provider.js';
import type { UpstreamByteBudget } from './upstream-budget.js';

/** What `GET /v1/providers` shows of a provider: never keys. */
export interface ProviderInfo {
  name: string;
  type: string;
  host?: string;
}

/** The providers chatd serves, by name, in configuration order. Immutable after construction. */
export class ProviderRegistry {
  private readonly _byName = new Map<string, ChatProvider>();

  /** Throws on a duplicate name (config validation normally catches it first). */
  constructor(providers: readonly ChatProvider[]) {
    for (const p of providers) {
      if (this._byName.has(p.name)) throw new Error(`duplicate provider name "${p.name}"`);
      this._byName.set(p.name, p);
    }
  }

  /** The provider called `name`, or undefined. */
  get(name: string): ChatProvider | undefined {
    return this._byName.get(name);
  }

  /** Provider names in order. */
  names(): string[] {
    return [...this._byName.keys()];
  }

  /** Public descriptions: name, type and host; never a key or a whole base URL. */
  list(): ProviderInfo[] {
    return [...this._byName.values()].map((p) => {
      const info: ProviderInfo = { name: p.name, type: p.type };
      if (p.host !== undefined) info.host = p.host;
      return info;
    });
  }
}

/** Builds `sim` (always first) plus every `PROVIDERS` entry, all upstreams on `budget`. No I/O. */
export function createProviderRegistry(
  config: ChatdConfig,
  roster: SimRoster,
  budget: UpstreamByteBudget,
): ProviderRegistry {
  const providers: ChatProvider[] = [
    new SimProvider({
      roster,
      phantomRate: config.simPhantomRate,
      latencyMs: config.simLatencyMs,
    }),
  ];
  for (const p of config.providers) providers.push(createUpstreamProvider(p, budget));
  return new ProviderRegistry(providers);
}

// Exhaustive over ProviderType: a new type does not compile until it gets its client here.
function createUpstreamProvider(p: ProviderConfig, budget: UpstreamByteBudget): ChatProvider {
  const common = {
    name: p.name,
    budget,
    baseUrl: p.baseUrl,
    ...(p.apiKey !== undefined ? { apiKey: p.apiKey } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
  };
  switch (p.type) {
    case 'openai':
      return new OpenAIProvider({
        ...common,
        ...(p.maxRetries !== undefined ? { maxRetries: p.maxRetries } : {}),
      });
    case 'ollama':
      return new OllamaProvider(common);
  }
}
