// The one source file two packages carry (packages never import each other): both copies must
// stay the same, or the two CLIs would neutralise different terminal escapes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './harness.js';

describe('files copied between packages', () => {
  it('terminal-safe.ts is the same in session-log and langfuse-processor', () => {
    const copy = (pkg: string): string =>
      readFileSync(path.join(REPO_ROOT, 'packages', pkg, 'src', 'terminal-safe.ts'), 'utf8');
    assert.equal(copy('langfuse-processor'), copy('session-log'));
  });
});
