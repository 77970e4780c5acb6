import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contractMismatches, WorkerLookup } from '@lakehouse/roster';
import type { ChatMessage } from '../src/providers/chat-provider.js';
import { SimProvider } from '../src/providers/sim-provider.js';
import {
  fencedJson,
  NO_JSON_FEEDBACK,
  protocolPrompt,
  rejectedFeedback,
  testRoster,
  testWorkers,
} from './helpers.js';

type Fills = { fills: { candidate_id: string; name: string }[] };

const CONTRACT = {
  target_count: 3,
  city: 'Chicago',
  state: 'IL',
  role: 'forklift operator',
  client_id: 'C-9',
};
const roster = testRoster();
const sim = new SimProvider({ roster, phantomRate: 0.3 });

function user(content: string): ChatMessage[] {
  return [
    { role: 'system', content: 'You are a staffing assistant.' },
    { role: 'user', content },
  ];
}

function fills(text: string): Fills {
  const parsed = fencedJson(text) as Fills | undefined;
  assert.ok(parsed !== undefined, `expected a json fence in: ${text}`);
  return parsed;
}

function phantoms(f: Fills): string[] {
  return f.fills.map((x) => x.candidate_id).filter((id) => roster.get(id) === undefined);
}

void describe('sim provider (offline simulator)', () => {
  void it('answers a clean fill with target_count active, non-blacklisting matches inside prose', () => {
    const text = sim.answer('clean', user(protocolPrompt('fill', CONTRACT)));
    assert.match(
      text,
      /^Here are 3 available forklift operator candidates in Chicago, IL for client C-9\./,
    );
    assert.match(text, /Each candidate was checked/);
    const f = fills(text);
    // W-2 is inactive, W-3 blacklisted C-9: first three eligible in worker_id order.
    assert.deepEqual(f.fills, [
      { candidate_id: 'W-1', name: 'Ana Lopez' },
      { candidate_id: 'W-4', name: 'Dev Patel' },
      { candidate_id: 'W-5', name: 'Eve Müller' },
    ]);
  });

  void it('never proposes a worker the validator rejects: blacklist match is case-blind (c-007 vs C-007)', () => {
    // Regression: sim compared blacklisted clients exactly, the validator case-blind.
    const workers = testWorkers().map((w) =>
      w.workerId === '1' || w.workerId === '4' ? { ...w, blacklistedClients: ['C-007'] } : w,
    );
    const lookup = WorkerLookup.fromWorkers(workers);
    const contract = { ...CONTRACT, client_id: 'c-007' };
    const text = new SimProvider({ roster: lookup }).answer(
      'clean',
      user(protocolPrompt('fill', contract)),
    );
    const proposed = fills(text).fills.map((f) => lookup.get(f.candidate_id));
    assert.deepEqual(
      proposed.map((w) => w?.candidateId),
      ['W-3', 'W-5', 'W-8'],
    );
    // The very rule the gateway's FillValidator applies (packages/roster).
    const wanted = { city: 'Chicago', state: 'IL', role: 'forklift operator', clientId: 'c-007' };
    for (const w of proposed) {
      assert.ok(w !== undefined);
      assert.deepEqual(contractMismatches(w, wanted), [], w.candidateId);
    }
  });

  void it('is deterministic: same (model, messages, roster) gives the same text', () => {
    for (const model of ['clean', 'phantom-once', 'some-model', 'prose-once']) {
      const msgs = user(protocolPrompt('fill', CONTRACT));
      assert.equal(sim.answer(model, msgs), sim.answer(model, msgs));
      assert.equal(
        sim.answer(model, msgs),
        new SimProvider({ roster: testRoster() }).answer(model, msgs),
      );
    }
  });

  void it('reports fewer fills when the roster cannot staff the contract', () => {
    const text = sim.answer(
      'clean',
      user(protocolPrompt('fill', { ...CONTRACT, target_count: 10 })),
    );
    assert.match(text, /^Only 5 of the 10 requested/);
    assert.equal(fills(text).fills.length, 5);
  });

  void it('phantom-once proposes one phantom first, then corrects after "not in roster" feedback', () => {
    const p0 = protocolPrompt('fill', CONTRACT);
    const first = fills(sim.answer('phantom-once', user(p0)));
    assert.equal(first.fills.length, 3);
    const ph = phantoms(first);
    assert.equal(ph.length, 1);

    const p1 = p0 + rejectedFeedback([`candidate_id ${ph[0]} not in roster`]);
    const second = fills(sim.answer('phantom-once', user(p1)));
    assert.equal(phantoms(second).length, 0);
    assert.equal(second.fills.length, 3);
  });

  void it('phantom-always keeps proposing a phantom despite feedback', () => {
    let prompt = protocolPrompt('fill', CONTRACT);
    for (let i = 0; i < 3; i++) {
      const f = fills(sim.answer('phantom-always', user(prompt)));
      const ph = phantoms(f);
      assert.equal(ph.length, 1);
      prompt += rejectedFeedback([`candidate_id ${ph[0]} not in roster`]);
    }
  });

  void it('prose-once answers without JSON first, then with JSON after the no-JSON feedback', () => {
    const p0 = protocolPrompt('fill', CONTRACT);
    const first = sim.answer('prose-once', user(p0));
    assert.doesNotMatch(first, /[{}]/);
    const second = sim.answer('prose-once', user(p0 + NO_JSON_FEEDBACK));
    assert.equal(phantoms(fills(second)).length, 0);
  });

  void it('prose-always never answers with JSON, for any kind', () => {
    for (const kind of ['fill', 'email', 'playbook']) {
      let prompt = protocolPrompt(kind, CONTRACT);
      for (let i = 0; i < 3; i++) {
        assert.doesNotMatch(sim.answer('prose-always', user(prompt)), /[{}]/);
        prompt += NO_JSON_FEEDBACK;
      }
    }
  });

  void it('other model names propose a phantom on about SIM_PHANTOM_RATE of first attempts only', () => {
    let withPhantom = 0;
    const n = 200;
    for (let i = 0; i < n; i++) {
      const p0 = protocolPrompt('fill', CONTRACT, `Request number ${i}.`);
      const f = fills(sim.answer('llama-ish', user(p0)));
      if (phantoms(f).length > 0) {
        withPhantom++;
        const retry = fills(
          sim.answer('llama-ish', user(p0 + rejectedFeedback(['candidate_id W-x not in roster']))),
        );
        assert.equal(phantoms(retry).length, 0);
      }
    }
    assert.ok(withPhantom > n * 0.15 && withPhantom < n * 0.45, `phantoms on ${withPhantom}/${n}`);
    const never = new SimProvider({ roster, phantomRate: 0 });
    const always = new SimProvider({ roster, phantomRate: 1 });
    const p0 = protocolPrompt('fill', CONTRACT);
    assert.equal(phantoms(fills(never.answer('x', user(p0)))).length, 0);
    assert.equal(phantoms(fills(always.answer('x', user(p0)))).length, 1);
    // A retry for another reason is not a first attempt: no phantom.
    const retry = p0 + rejectedFeedback(['fills: expected 3 entries, got 2']);
    assert.equal(phantoms(fills(always.answer('x', user(retry)))).length, 0);
  });

  void it('answers email with {to, subject, body}', () => {
    const text = sim.answer(
      'clean',
      user(
        protocolPrompt('email', { to: 'ops@example.com' }, 'Tell the client the shift is staffed.'),
      ),
    );
    const email = fencedJson(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(email), ['to', 'subject', 'body']);
    assert.equal(email['to'], 'ops@example.com');
    assert.equal(email['subject'], 'Tell the client the shift is staffed.');
    assert.equal(typeof email['body'], 'string');
  });

  void it('answers playbook with {title, steps[]}', () => {
    const text = sim.answer('clean', user(protocolPrompt('playbook', {}, 'Onboard a new client.')));
    const pb = fencedJson(text) as { title: string; steps: string[] };
    assert.equal(pb.title, 'Onboard a new client.');
    assert.ok(Array.isArray(pb.steps) && pb.steps.length >= 3);
    assert.ok(pb.steps.every((s) => typeof s === 'string' && s.length > 0));
  });

  void it('says it is a simulator when the prompt has no artifact kind', () => {
    const text = sim.answer('clean', [{ role: 'user', content: 'hello' }]);
    assert.match(text, /offline simulator \(not a model\)/);
  });

  void it('fails fill prompts with a 502 ProviderError when the roster is not loaded', async () => {
    const missing = await WorkerLookup.load('/nonexistent/roster.parquet', {
      logger: { warn: () => undefined },
    });
    const s = new SimProvider({ roster: missing });
    assert.throws(
      () => s.answer('clean', user(protocolPrompt('fill', CONTRACT))),
      (err: Error & { status?: number }) => {
        assert.equal(err.status, 502);
        assert.match(err.message, /roster not loaded/);
        return true;
      },
    );
  });

  void it('honours SIM_LATENCY_MS and aborts promptly', async () => {
    const slow = new SimProvider({ roster, latencyMs: 5_000 });
    const ac = new AbortController();
    const p = slow.chat({ model: 'clean', messages: user('hi') }, ac.signal);
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    // A full turn of the event loop: an answer given without the latency would have settled.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'still waiting out its latency');
    ac.abort();
    // Without honouring the abort it would resolve with an answer after its 5 s latency.
    await assert.rejects(p, { name: 'AbortError' });
  });

  void it('estimates usage as ceil(chars / 4) and finishes with "stop"', async () => {
    const msgs = user(protocolPrompt('fill', CONTRACT));
    const r = await sim.chat({ model: 'clean', messages: msgs }, new AbortController().signal);
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.model, 'clean');
    assert.equal(r.usage.inputTokens, Math.ceil(msgs.map((m) => m.content).join('').length / 4));
    assert.equal(r.usage.outputTokens, Math.ceil(r.content.length / 4));
  });
});
