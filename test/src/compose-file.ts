// docker-compose.yml as a clean checkout sees it: services and their environment with the
// defaults of `${X:-d}` interpolation applied. Shared by the static compose checks and the tests
// that run the compose stack's pieces (the Collector e2e) with the compose file's own settings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './harness.js';

export type Dict = Record<string, unknown>;

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function dict(value: unknown, what: string): Dict {
  assert.ok(isDict(value), `${what} should be a mapping`);
  return value;
}

export function readRepoFile(relative: string): string {
  return readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

/** docker-compose.yml parsed, with `<<:` merge keys resolved. */
export const compose = dict(
  parse(readRepoFile('docker-compose.yml'), { merge: true }),
  'docker-compose.yml',
);

/** The compose services by name. */
export const composeServices = dict(compose.services, 'services');

/** Compose interpolation with defaults only (`${X:-d}`, `${X-d}`, `${X}`, `$$`): what a clean checkout sees. */
export function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (match, _name, fallback: string | undefined) => (match === '$$' ? '$' : (fallback ?? '')),
  );
}

export function composeService(name: string): Dict {
  return dict(composeServices[name], `services.${name}`);
}

/** A service's environment as resolved strings (map or `KEY=value` list form). */
export function composeEnv(name: string): Record<string, string> {
  const raw = composeService(name).environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line: unknown) => {
        const text = String(line);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(dict(raw, `services.${name}.environment`));
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v === null ? '' : String(v))]));
}
