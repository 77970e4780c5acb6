import type { ArtifactKind, ValidationIssue } from './validators/types.js';

/** Per-kind shape hint closing prompt_0 (docs/architecture.md, prompt protocol). */
const SHAPE_HINTS: Readonly<Record<ArtifactKind, string>> = {
  fill: '{"fills":[{"candidate_id":"W-<worker_id>","name":"<worker name>"}]}',
  email: '{"to":"<recipient email>","subject":"<subject>","body":"<body>"}',
  playbook: '{"title":"<title>","steps":["<step>","<step>"]}',
};

/** Feedback appended after a reply with no JSON object in it. */
export const NO_JSON_FEEDBACK =
  "Your response wasn't valid JSON. Respond with exactly one JSON object.";

/** A chat message as chatd's `/v1/chat` takes it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Builds prompt_0: the request prompt, then the kind, the contract, and the shape hint. */
export function buildInitialPrompt(
  prompt: string,
  kind: ArtifactKind,
  context: Record<string, unknown>,
): string {
  return (
    `${prompt}\n\nArtifact kind: ${kind}\nContract: ${JSON.stringify(context)}\n` +
    `Respond with exactly one JSON object: ${SHAPE_HINTS[kind]}`
  );
}

/** Feedback for a rejected artifact: every error message, joined with "; ". */
export function validationFeedback(errors: readonly Pick<ValidationIssue, 'message'>[]): string {
  const messages = errors.map((e) => e.message).join('; ');
  return `Your previous response was rejected: ${messages}. Fix every problem and respond with the corrected JSON object only.`;
}

/** prompt_{i+1} = prompt_i + "\n\n" + feedback. */
export function appendFeedback(prompt: string, feedback: string): string {
  return `${prompt}\n\n${feedback}`;
}

/** The messages for one chat hop: the optional system prompt, then the user prompt. */
export function buildMessages(system: string | undefined, prompt: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (system !== undefined) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: prompt });
  return messages;
}
