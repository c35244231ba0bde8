/**
 * Runs the tasks given for one key one at a time, in arrival order, in this process; keys with
 * nothing queued take no memory.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const out = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = out.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return out;
  }
}
