import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { LeanContextManager } from '../src/context-manager.js';

const KEY = createContextKey('test.key');
const a = ROOT_CONTEXT.setValue(KEY, 'a');
const b = ROOT_CONTEXT.setValue(KEY, 'b');

describe('LeanContextManager', () => {
  it('with() runs fn in the context, passes this and arguments, and restores afterwards', () => {
    const cm = new LeanContextManager();
    const self = { n: 2 };
    const seen = cm.with(
      a,
      function (this: typeof self, x: number) {
        return [cm.active().getValue(KEY), this.n * x];
      },
      self,
      21,
    );
    assert.deepEqual(seen, ['a', 42]);
    assert.equal(cm.active(), ROOT_CONTEXT);
  });

  it('bound functions run in the bound context and keep a non-zero length', () => {
    const cm = new LeanContextManager();
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const handler = (_e: unknown, _req: unknown, _res: unknown, _next: unknown): unknown =>
      cm.active().getValue(KEY);
    const bound = cm.bind(a, handler);
    assert.equal(bound.length, 4);
    assert.equal(
      cm.with(b, () => bound(1, 2, 3, 4)),
      'a',
    );
  });

  it('listeners of a bound emitter run in its context, whenever they were added', () => {
    const cm = new LeanContextManager();
    const ee = new EventEmitter();
    const seen: unknown[] = [];
    ee.on('x', () => seen.push(['early', cm.active().getValue(KEY)]));
    cm.bind(a, ee);
    cm.with(b, () => ee.once('x', () => seen.push(['late', cm.active().getValue(KEY)])));
    cm.with(b, () => ee.emit('x'));
    ee.emit('x');
    assert.deepEqual(seen, [
      ['early', 'a'],
      ['late', 'a'],
      ['early', 'a'],
    ]);
  });

  it('the first bind wins and removeListener still finds the listener', () => {
    const cm = new LeanContextManager();
    const ee = new EventEmitter();
    cm.bind(a, ee);
    cm.bind(b, ee);
    let got: unknown;
    const listener = (): void => {
      got = cm.active().getValue(KEY);
    };
    ee.on('x', listener);
    ee.emit('x');
    assert.equal(got, 'a');
    ee.removeListener('x', listener);
    assert.equal(ee.listenerCount('x'), 0);
    assert.equal(ee.emit('x'), false);
  });

  it("an unhandled 'error' still throws", () => {
    const cm = new LeanContextManager();
    const ee = cm.bind(a, new EventEmitter());
    assert.throws(() => ee.emit('error', new Error('boom')), /boom/);
  });
});
