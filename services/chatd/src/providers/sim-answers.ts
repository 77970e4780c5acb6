import type { ParsedPrompt } from './sim-prompt.js';
import { stringField } from './sim-prompt.js';

const PLAYBOOK_STEPS = [
  'Confirm the contract scope, headcount and start date with the client',
  'Shortlist active workers in the contract city whose role matches',
  'Exclude anyone who has blacklisted the client',
  'Call shortlisted workers to confirm availability for the shift pattern',
  'Send confirmations and site instructions to each placed worker',
  'Check in with the client after the first shift and log feedback',
];

/** A fill answer: a sentence, the fills in a ```json fence, and a closing note. */
export function fillAnswer(
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

/** A fill answer with no JSON at all (the prose modes). */
export function fillProse(contract: Record<string, unknown>): string {
  return (
    `I looked through the roster for ${describeContract(contract)} and found several strong ` +
    `candidates. I would start with the workers who have the most availability this week and ` +
    `confirm each of them with a call before placing them.`
  );
}

/** An email artifact in a ```json fence. */
export function emailAnswer(p: ParsedPrompt): string {
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

/** A playbook artifact of 3..5 steps (chosen by `seed`) in a ```json fence. */
export function playbookAnswer(p: ParsedPrompt, seed: number): string {
  const steps: string[] = [];
  const n = 3 + (seed % 3);
  for (let i = 0; i < n; i++) steps.push(PLAYBOOK_STEPS[i] ?? '');
  const artifact = { title: truncate(firstLine(p.text) || 'Staffing playbook', 80), steps };
  return `Here is the playbook.\n\n\`\`\`json\n${JSON.stringify(artifact, null, 2)}\n\`\`\``;
}

/** Prose about `what`, with no JSON. */
export function proseOnly(what: string, p: ParsedPrompt): string {
  return (
    `Sure, I can draft ${what} about "${truncate(firstLine(p.text), 60)}". It should be short, ` +
    `friendly and specific, and it should end with a clear next step for the reader.`
  );
}

/** "{role} candidates in {city, state} for client {id}" from the contract. */
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

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
}

function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
}
