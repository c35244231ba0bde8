import { pgErrorCode } from '@idp/service-kit';

/** Thrown inside a transaction when the row changed under us (optimistic version check failed). */
export class VersionConflict extends Error {}

/**
 * PostgreSQL's verdicts on a transaction that lost to a concurrent one: deadlock_detected (it was
 * chosen as the victim of a lock cycle, e.g. with another replica or a writer that locks in
 * another order) and serialization_failure. Its work was rolled back; running it again is safe.
 */
const LOST_RACE = new Set(['40P01', '40001']);
export const isLostRace = (e: unknown): boolean => LOST_RACE.has(pgErrorCode(e) ?? '');

/**
 * Runs `fn` again when another writer won the race on the same row (a version conflict, or a
 * transaction PostgreSQL rolled back as a deadlock victim), after a short random pause that
 * doubles each time (at most 64 ms): writers that retried at once kept colliding, and 20
 * concurrent PATCHes of one user ended in 409s.
 */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof VersionConflict || isLostRace(e)) || i >= attempts) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** Math.min(i, 6)));
    }
  }
}
