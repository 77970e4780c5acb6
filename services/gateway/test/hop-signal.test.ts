import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import { describe, it } from 'node:test';
import { hopSignal } from '../src/hop-client.js';

void describe('hopSignal (one hop: its timeout and the drain signal)', () => {
  void it('aborts with a TimeoutError once the timeout passes', async () => {
    const { signal, done } = hopSignal(1, undefined);
    await once(signal, 'abort');
    assert.equal((signal.reason as DOMException).name, 'TimeoutError');
    done();
  });

  void it('aborts with the drain reason when the drain signal aborts, even before the hop starts', () => {
    const drain = new AbortController();
    const live = hopSignal(60_000, drain.signal);
    drain.abort(new Error('shutting down'));
    assert.equal(live.signal.aborted, true);
    assert.equal((live.signal.reason as Error).message, 'shutting down');
    live.done();

    const late = hopSignal(60_000, drain.signal);
    assert.equal(late.signal.aborted, true, 'an already aborted drain signal');
    late.done();
  });

  void it('leaves nothing registered on the long-lived drain signal once the hop is done', () => {
    const drain = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const { done } = hopSignal(60_000, drain.signal);
      done();
    }
    assert.equal(getEventListeners(drain.signal, 'abort').length, 0);
    assert.equal(drain.signal.aborted, false);
  });
});
