import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventually } from '@lakehouse/test-support';
import type { ChatProvider, ChatResult } from '../src/providers/chat-provider.js';
import { ProviderRegistry } from '../src/providers/provider-registry.js';
import { chat, startApp } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

void describe('a finished call keeps nothing of its answer', () => {
  void it("the provider's answer is garbage once chatd has answered", async () => {
    const answers: WeakRef<ChatResult>[] = [];
    const provider: ChatProvider = {
      name: 'p',
      type: 'openai',
      chat: () => {
        const result: ChatResult = {
          model: 'm',
          content: 'x'.repeat(1024 * 1024),
          finishReason: 'stop',
          usage: { inputTokens: 1, outputTokens: 1 },
        };
        answers.push(new WeakRef(result));
        return Promise.resolve(result);
      },
    };
    const app = await startApp({ providers: new ProviderRegistry([provider]) });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await chat(app.url, 'p', 'm')).status, 200);
      // A WeakRef is cleared only after the job that collected it: each probe runs in a new one.
      await eventually(
        () => {
          gc();
          return answers.every((a) => a.deref() === undefined) ? true : undefined;
        },
        10_000,
        'every answer collected',
      );
    } finally {
      await app.close();
    }
  });
});
