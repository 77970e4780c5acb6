import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Context, ContextManager } from '@opentelemetry/api';

/**
 * The context manager of the explicit-context design: no AsyncLocalStorage (whose async hooks
 * cost every promise of the process on Node 20), only a synchronous stack. `context.with(ctx,
 * fn)` makes `ctx` active while `fn` runs synchronously (what the SDK's exporters rely on to
 * suppress tracing of their own requests); nothing follows a callback or an await. Request code
 * passes its Context explicitly (startSpan, withSpan, hopHeaders).
 */
export class SyncContextManager implements ContextManager {
  private _stack: Context[] = [];

  active(): Context {
    return this._stack[this._stack.length - 1] ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this._stack.push(context);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this._stack.pop();
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const run = <R>(body: () => R): R => this.with(context, body);
    return function (this: unknown, ...args: unknown[]) {
      return run(() => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this._stack = [];
    return this;
  }
}
