import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  appendFeedback,
  buildInitialPrompt,
  buildMessages,
  NO_JSON_FEEDBACK,
  validationFeedback,
} from '../src/prompt.js';

void describe('prompt protocol', () => {
  void it('builds prompt_0 exactly as docs/architecture.md says', () => {
    const prompt = buildInitialPrompt('Staff the dock', 'fill', {
      target_count: 2,
      city: 'Chicago',
    });
    assert.equal(
      prompt,
      'Staff the dock\n\nArtifact kind: fill\nContract: {"target_count":2,"city":"Chicago"}\n' +
        'Respond with exactly one JSON object: {"fills":[{"candidate_id":"W-<worker_id>","name":"<worker name>"}]}',
    );
  });

  void it('has a shape hint per kind and an empty contract as {}', () => {
    assert.match(
      buildInitialPrompt('p', 'email', {}),
      /Contract: \{\}\nRespond with exactly one JSON object: \{"to":/,
    );
    assert.match(
      buildInitialPrompt('p', 'playbook', {}),
      /Artifact kind: playbook\n.*\n.*"steps":\[/,
    );
  });

  void it('appends the no-JSON and validation feedback', () => {
    assert.equal(
      NO_JSON_FEEDBACK,
      "Your response wasn't valid JSON. Respond with exactly one JSON object.",
    );
    assert.equal(
      validationFeedback([{ message: 'candidate_id W-9 not in roster' }, { message: 'x' }]),
      'Your previous response was rejected: candidate_id W-9 not in roster; x. ' +
        'Fix every problem and respond with the corrected JSON object only.',
    );
    assert.equal(appendFeedback('p0', 'fb'), 'p0\n\nfb');
  });

  void it('puts the optional system prompt first', () => {
    assert.deepEqual(buildMessages(undefined, 'u'), [{ role: 'user', content: 'u' }]);
    assert.deepEqual(buildMessages('s', 'u'), [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
    ]);
  });
});
