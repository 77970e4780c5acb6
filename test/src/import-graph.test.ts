// The dependency rules of the README, checked on the sources: no import cycle inside any
// package or service (type-only imports included), packages never import each other, services
// import packages only, and test-only helpers never reach src.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './harness.js';

const IMPORT_RE = /^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT_RE)].map((m) => m[1] ?? '');
}

const WORKSPACES = ['packages', 'services'].flatMap((group) =>
  readdirSync(path.join(REPO_ROOT, group)).map((name) => ({
    group,
    name,
    src: path.join(REPO_ROOT, group, name, 'src'),
  })),
);

/** The relative-import edges of `files` (file → imported files). */
function importEdges(files: string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    edges.set(
      file,
      imports(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'))),
    );
  }
  return edges;
}

/** A cycle of `edges` as a path that ends where it starts, or undefined. */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

describe('import graph', () => {
  for (const ws of WORKSPACES) {
    it(`${ws.group}/${ws.name}/src has no import cycle and follows the dependency rules`, () => {
      const files = sourceFiles(ws.src);
      assert.ok(files.length > 0, `no sources under ${ws.src}`);
      const cycle = findCycle(importEdges(files));
      assert.equal(
        cycle?.map((f) => path.relative(ws.src, f)).join(' → '),
        undefined,
        'import cycle',
      );
      for (const file of files) {
        for (const spec of imports(file)) {
          const where = `${path.relative(REPO_ROOT, file)} imports ${spec}`;
          assert.ok(!spec.startsWith('@lakehouse/test-support'), `${where}: test-only`);
          if (ws.group === 'packages') assert.ok(!spec.startsWith('@lakehouse/'), `${where}`);
          assert.ok(!/^(\.\.\/)+(services|packages)\//.test(spec), `${where}: deep import`);
        }
      }
    });
  }

  it('finds a cycle when there is one (the check can fail)', () => {
    const edges = new Map([
      ['app.ts', ['routes/iterate.ts']],
      ['routes/iterate.ts', ['app.ts']],
    ]);
    assert.deepEqual(findCycle(edges), ['app.ts', 'routes/iterate.ts', 'app.ts']);
    assert.equal(findCycle(new Map([['a.ts', ['b.ts']]])), undefined);
  });
});
