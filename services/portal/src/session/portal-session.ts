import { randomBytes } from 'node:crypto';
import type { SessionData } from './session-data';
import type { StoredSession } from './session-store';

/**
 * The request's view of its session. A session is created lazily (first write),
 * saved only when its data changed, and can be rotated (new id, same data) or destroyed.
 */
export class PortalSession {
  private current: SessionData | undefined;
  private readonly snapshot: string | undefined;
  rotateRequested = false;
  destroyRequested = false;

  constructor(readonly stored: StoredSession | undefined) {
    this.current = stored?.data;
    this.snapshot = stored ? JSON.stringify(stored.data) : undefined;
  }

  /** The data, creating an empty session on first use. */
  get data(): SessionData {
    this.current ??= { csrf: randomBytes(32).toString('base64url'), pending: {} };
    return this.current;
  }

  /** Data without creating a session (for reads on anonymous requests). */
  get existing(): SessionData | undefined {
    return this.current;
  }

  /** The data as loaded (what a merge after a concurrent write compares against). */
  get base(): SessionData | undefined {
    return this.snapshot === undefined ? undefined : (JSON.parse(this.snapshot) as SessionData);
  }

  get changed(): boolean {
    return this.current !== undefined && JSON.stringify(this.current) !== this.snapshot;
  }

  /** New session id at privilege change (sign-in): defeats session fixation. */
  rotate(): void {
    this.rotateRequested = true;
  }

  destroy(): void {
    this.destroyRequested = true;
    this.current = undefined;
  }
}
