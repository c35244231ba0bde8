/** Thrown inside a transaction when the row changed under us (optimistic version check failed). */
export class VersionConflict extends Error {}

/**
 * Runs `fn` again when another writer won the race on the same row, after a short random pause
 * that doubles each time (at most 64 ms): writers that retried at once kept colliding, and 20
 * concurrent PATCHes of one user ended in 409s.
 */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof VersionConflict) || i >= attempts) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(i, 6)));
    }
  }
}
