import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_LINES = 300;

describe('the console’s source layout', () => {
  it(`keeps every source file to one concept, at most ${MAX_LINES} lines`, () => {
    const long = readdirSync(path.join(ROOT, 'src'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, readFileSync(path.join(ROOT, 'src', f), 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > MAX_LINES);
    assert.deepEqual(long, []);
  });

  it('has no barrel nothing imports, and no bin pointing into dist/ (npm links bins at install, before any build)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      exports?: unknown;
      bin?: Record<string, string>;
    };
    assert.equal(existsSync(path.join(ROOT, 'src/index.ts')), false, 'src/index.ts');
    assert.equal(pkg.exports, undefined, 'a service exports nothing');
    for (const [name, target] of Object.entries(pkg.bin ?? {}))
      assert.ok(!target.includes('dist/'), `${name} -> ${target}`);
  });
});
