/**
 * Runs the tasks given to it one after another, in order: what one heavy read (a row read back,
 * a tree rebuilt) holds in memory is then the most the console holds, however many pages ask.
 */
export class OneAtATime {
  private _tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task given before it; its result or rejection is the caller's. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this._tail.then(task, task);
    this._tail = result.catch(() => {});
    return result;
  }
}
