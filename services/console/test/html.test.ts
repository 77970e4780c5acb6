import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'parse5';
import type { DefaultTreeAdapterMap } from 'parse5';
import type { LangfuseTraceTree, TreeObservation } from '@lakehouse/langfuse-processor';
import { clipText } from '../src/clip-text.js';
import { escapeHtml, html, visible } from '../src/html.js';
import { sessionTable } from '../src/page-layout.js';
import type { PageContext } from '../src/page-layout.js';
import { sessionDetail } from '../src/session-detail.js';
import { sessionPage } from '../src/session-page.js';
import { boundedTree } from '../src/tree-view.js';
import type { SessionListRow } from '../src/session-list.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

// Strings made to break out of text, attributes, comments and scripts, mixed with any code points.
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '<script>alert(1)</script>',
        '"><img src=x onerror=alert(1)>',
        "' onmouseover='alert(1)",
        '</td></tr></table><b>',
        '<!--',
        '-->',
        ']]>',
        '&amp;',
        '&#x3C;',
        '<svg/onload=alert(1)>',
        'javascript:alert(1)',
        '\u202e',
        '\u2066',
        '\u200b',
        '\u0000',
        '\r\n',
        '\u0007',
        '\u0085',
        '\ud800',
        '\udfff',
        '\ufeff',
        '\u{e0041}\u{e0042}',
        '\u206a',
        '\u0600',
        '`${x}`',
      ),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(''))
  .filter((s) => s !== '');

// What no page may show raw: controls but tab and newline, format characters, the line and
// paragraph separators, lone surrogates.
const NOT_SHOWN = /(?![\t\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

function elements(node: Node, out: Element[] = []): Element[] {
  if ('tagName' in node) out.push(node);
  if ('childNodes' in node) for (const child of node.childNodes) elements(child, out);
  if ('content' in node && node.content) elements(node.content, out);
  return out;
}

function textOf(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in node ? node.childNodes.map(textOf).join('') : '';
}

const shape = (doc: string): string[] =>
  elements(parse(doc)).map((e) => `${e.tagName}[${e.attrs.map((a) => a.name).join(',')}]`);

const byClass = (doc: string, cls: string): Element[] =>
  elements(parse(doc)).filter((e) =>
    e.attrs.some((a) => a.name === 'class' && a.value.split(' ').includes(cls)),
  );

const CTX: PageContext = {
  status: {
    file: 's.jsonl',
    state: 'ready',
    fileBytes: 1,
    indexedBytes: 1,
    lines: 1,
    oversizeLines: 0,
    badLines: 0,
    resets: 0,
    error: undefined,
  },
  rows: 1,
  traces: 'trace file t.jsonl',
};

function row(s: string): SessionListRow {
  return {
    seq: 0,
    session_id: s,
    timestamp: s,
    kind: s,
    model: s,
    provider: s,
    final_verdict: s,
    iterations: 2,
    max_iterations: 3,
    grounded: false,
    duration_ms: 5,
    attempts: 2,
    phantoms: 1,
    last_error: s,
  };
}

function observation(s: string, children: TreeObservation[] = []): TreeObservation {
  return {
    id: s,
    traceId: 'a'.repeat(32),
    parentId: undefined,
    name: s,
    type: s,
    level: 'WARNING',
    isRoot: true,
    startTimeMs: 0,
    endTimeMs: 2,
    durationMs: 2,
    model: s,
    usage: { input: 1, output: 2 },
    input: s,
    output: s,
    statusMessage: s,
    serviceName: s,
    scopeName: s,
    attributes: {},
    children,
  };
}

function tree(s: string): LangfuseTraceTree {
  const child = observation(s);
  const root = observation(s, [child]);
  return {
    traceId: 'a'.repeat(32),
    name: s,
    roots: [root],
    dangling: [],
    observations: [root, child],
    input: s,
    output: s,
    tags: [],
    metadata: {},
    startTimeMs: 0,
    endTimeMs: 2,
  };
}

function page(s: string): string {
  const raw = {
    schema: 'session.iterate.v1',
    session_id: s,
    timestamp: s,
    daemon: s,
    kind: s,
    model: s,
    provider: s,
    prompt: s,
    attempts: [{ iteration: 0, verdict_kind: s, error: s, span_id: s }],
    artifact: { [s]: s },
  };
  return sessionPage(CTX, {
    sessionId: s,
    rows: [{ row: row(s), detail: sessionDetail(raw, 100) }],
    rowsTotal: 1,
    trace: { tree: boundedTree(tree(s), 2000, 64), source: s, note: s, link: undefined },
  });
}

describe('hostile strings render as text, never as markup', () => {
  it('class names come from fixed maps only: a verdict or level named like an Object member gets the neutral class', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const table = sessionTable([{ ...row('x'), final_verdict: name }]).value;
      const badge = elements(parse(table)).find((e) => textOf(e) === name && e.tagName === 'span');
      assert.equal(badge?.attrs.find((a) => a.name === 'class')?.value, 'badge other', name);
      const t = tree('x');
      const obs = { ...observation('x'), level: name };
      const doc = sessionPage(CTX, {
        sessionId: 'x',
        rows: [],
        rowsTotal: 0,
        trace: {
          tree: boundedTree({ ...t, roots: [obs], observations: [obs] }, 2000, 64),
          source: 'x',
          note: undefined,
          link: undefined,
        },
      });
      const li = elements(parse(doc)).find((e) => e.tagName === 'li');
      assert.equal(li?.attrs.find((a) => a.name === 'class')?.value, 'obs level-default', name);
    }
  });

  it('clipText cuts to n code points with an ellipsis, never splitting a surrogate pair', () => {
    const reference = (text: string, n: number): string =>
      [...text].length > n ? `${[...text].slice(0, n - 1).join('')}…` : text;
    fc.assert(
      fc.property(
        fc.oneof(
          hostile,
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.string({ unit: 'grapheme', maxLength: 60 }),
        ),
        fc.integer({ min: 1, max: 70 }),
        (s, n) => assert.equal(clipText(s, n), reference(s, n)),
      ),
      { numRuns: 500 },
    );
    assert.equal(clipText('x'.repeat(30_000_000), 3), 'xx…');
  });

  it('visible() shows control, bidi and invisible characters as \\u{…} and keeps the rest', () => {
    assert.equal(visible('a\u202eb\u0000c\td\ne'), 'a\\u{202e}b\\u{0}c\td\ne');
    assert.equal(visible('\ud800x\ud83d\ude00'), '\\u{d800}x\ud83d\ude00');
    assert.equal(visible('a\u{e0041}b\u206ac'), 'a\\u{e0041}b\\u{206a}c');
    fc.assert(
      fc.property(hostile, (s) => {
        assert.doesNotMatch(visible(s), NOT_SHOWN);
      }),
    );
  });

  it('visible() escapes every control but tab and newline, every format character (Unicode Cf) and both separators', () => {
    // Every code point, not a sample: the tag characters U+E0000–U+E007F hide text, U+206A–U+206F
    // and the bidi controls reorder it.
    let escaped = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const ch = String.fromCodePoint(cp);
      if (!NOT_SHOWN.test(ch)) continue;
      assert.equal(visible(`a${ch}b`), `a\\u{${cp.toString(16)}}b`, cp.toString(16));
      escaped++;
    }
    assert.ok(escaped > 2048 + 170, String(escaped)); // the surrogates alone are 2,048
  });

  it('html`` escapes every interpolated string, in text and in attributes', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const doc = html`<p title="${s}">${s}</p>`.value;
        const [p] = elements(parse(doc)).filter((e) => e.tagName === 'p');
        assert.ok(p);
        assert.equal(textOf(p), visible(s));
        assert.deepEqual(p.attrs, [{ name: 'title', value: visible(s) }]);
        assert.doesNotMatch(doc.slice(3, -4), /<(?!\/p>)/);
        assert.equal(escapeHtml(s).includes('<'), false);
      }),
    );
  });

  it('the sessions table: same elements as for a plain string, every cell shows the string', () => {
    const plainShape = shape(sessionTable([row('x')]).value);
    fc.assert(
      fc.property(hostile, (s) => {
        const doc = sessionTable([row(s)]).value;
        assert.deepEqual(shape(doc), plainShape);
        for (const cls of ['model', 'error-text'])
          assert.equal(textOf(byClass(doc, cls)[0] as Node), visible(s), cls);
        const tr = elements(parse(doc)).find(
          (e) => e.tagName === 'tr' && e.attrs.some((a) => a.name === 'data-session'),
        );
        assert.equal(tr?.attrs.find((a) => a.name === 'data-session')?.value, visible(s));
      }),
    );
  });

  it('the session page: prompt, attempts, artifact and tree show the string and add no elements', () => {
    const plainShape = shape(page('x'));
    fc.assert(
      fc.property(hostile, (s) => {
        const doc = page(s);
        assert.deepEqual(shape(doc), plainShape);
        assert.equal(textOf(byClass(doc, 'prompt')[0] as Node), visible(s));
        assert.equal(textOf(byClass(doc, 'validator-error')[0] as Node), visible(s));
        assert.equal(textOf(byClass(doc, 'obs-name')[0] as Node), visible(s));
        assert.equal(textOf(byClass(doc, 'status-message')[0] as Node), visible(s));
        assert.equal(
          textOf(byClass(doc, 'artifact')[0] as Node),
          visible(JSON.stringify({ [s]: s }, null, 2)),
        );
        const scripts = elements(parse(doc)).filter((e) => e.tagName === 'script');
        assert.equal(scripts.length, 0, 'the session page runs no script');
        for (const e of elements(parse(doc))) {
          for (const a of e.attrs)
            assert.ok(!a.name.startsWith('on'), `${e.tagName} has ${a.name}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});
