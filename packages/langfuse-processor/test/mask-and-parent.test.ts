import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  defaultMask,
  getObservationParentId,
  isContentKey,
  LAKEHOUSE_ATTRIBUTES as LH,
  OBSERVATION_PARENT_BAGGAGE_KEY,
  outputMessagesText,
  withObservationParent,
} from '../src/index.js';
import './harness.js'; // registers the context manager

void describe('defaultMask', () => {
  const cases: Array<[string, string]> = [
    ['key sk-abcdefghijklmnopqrstuvwxyz012345 here', 'key [REDACTED] here'],
    ['sk-proj-Ab3_dEf-GhIjKlMnOpQrStUv', '[REDACTED]'],
    ['pk-lf-1234-abcd and sk-lf-9876-zyxw', '[REDACTED] and [REDACTED]'],
    ['Authorization: Bearer abc.def.ghi', 'Authorization: [REDACTED]'],
    ['{"authorization":"Basic dXNlcjpwYXNz"}', '{"authorization":"[REDACTED]"}'],
    ['curl -H "x: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123"', 'curl -H "x: Bearer [REDACTED]"'],
    ['https://x/?api_key=s3cr3t&q=1', 'https://x/?api_key=[REDACTED]&q=1'],
    ['{"OPENAI_API_KEY": "abc"}', '{"OPENAI_API_KEY": "[REDACTED]"}'],
    ['password=hunter2', 'password=[REDACTED]'],
    ['password="hunter 2"', 'password="[REDACTED]"'],
    ['{"api_key": "two words"}', '{"api_key": "[REDACTED]"}'],
    [
      JSON.stringify('{"api_key": "abc def", "x": "Authorization: \\"Basic dXNlcjpwYXNz\\""}'),
      JSON.stringify('{"api_key": "[REDACTED]", "x": "Authorization: \\"[REDACTED]\\""}'),
    ],
    ['groq gsk_abcdefghijklmnopqrstuvwxyz0123', 'groq [REDACTED]'],
    ['google AIzaSyA1234567890abcdefghijklmnopqrstuv', 'google [REDACTED]'],
    ['gh ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'gh [REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'jwt [REDACTED]'],
    ['"line\\nsk-abcdefghijklmnopqrstuvwxyz012345"', '"line\\n[REDACTED]"'],
    ['postgres://app:s3cret@db:5432/x', 'postgres://app:[REDACTED]@db:5432/x'],
  ];
  for (const [input, expected] of cases) {
    void it(`masks ${JSON.stringify(input)}`, () => assert.equal(defaultMask(input), expected));
  }
  void it('leaves ordinary prose, task names and token counts alone', () => {
    const prose =
      'Basic information for the task-skeleton; max_tokens: 4096, bearer of news, sk-short';
    assert.equal(defaultMask(prose), prose);
  });
});

void describe('content keys', () => {
  void it('treats prompt/response text keys as content but not model, usage or sizes', () => {
    for (const k of [
      'gen_ai.input.messages',
      'gen_ai.output.messages',
      'langfuse.observation.input',
      LH.REQUEST,
      LH.ARTIFACT,
      LH.ATTEMPT_PROMPT,
      LH.ATTEMPT_RAW,
      'gen_ai.prompt.0.content',
    ]) {
      assert.ok(isContentKey(k), k);
    }
    for (const k of [
      'gen_ai.request.model',
      'gen_ai.usage.input_tokens',
      'http.request.body.size',
      'langfuse.observation.status_message',
      'langfuse.observation.level',
      LH.ATTEMPT_ERROR,
      LH.ATTEMPT_VERDICT,
      LH.MODEL,
    ]) {
      assert.ok(!isContentKey(k), k);
    }
  });
  void it('extracts the text of GenAI output messages in both shapes', () => {
    assert.equal(outputMessagesText('[{"role":"assistant","content":"hi"}]'), 'hi');
    assert.equal(
      outputMessagesText(
        '[{"role":"assistant","parts":[{"type":"text","content":"a"},{"type":"text","content":"b"}]}]',
      ),
      'ab',
    );
    assert.equal(outputMessagesText('plain'), 'plain');
  });
});

void describe('withObservationParent', () => {
  void it('puts the active span id in baggage for the duration of fn', () => {
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    const seen = context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
      withObservationParent(
        () =>
          propagation.getBaggage(context.active())?.getEntry(OBSERVATION_PARENT_BAGGAGE_KEY)?.value,
      ),
    );
    assert.equal(seen, '00f067aa0ba902b7');
    assert.equal(
      propagation.getBaggage(context.active()),
      undefined,
      'baggage does not leak out of fn',
    );
  });
  void it('runs fn unchanged without an active span, and returns its result', () => {
    assert.equal(
      withObservationParent(() => getObservationParentId(context.active()) ?? 'none'),
      'none',
    );
  });
  void it('ignores invalid ids in baggage', () => {
    const bag = propagation.createBaggage({
      [OBSERVATION_PARENT_BAGGAGE_KEY]: { value: 'not-a-span-id' },
    });
    assert.equal(getObservationParentId(propagation.setBaggage(ROOT_CONTEXT, bag)), undefined);
  });
});
