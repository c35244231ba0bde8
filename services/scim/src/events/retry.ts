/** Thrown inside a transaction when the row changed under us (optimistic version check failed). */
export class VersionConflict extends Error {}

/** Runs `fn` again when another writer won the race on the same row. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof VersionConflict) || i >= attempts) throw e;
    }
  }
}
