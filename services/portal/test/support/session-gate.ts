// Holds one request right after its session was loaded, so a test can end or
// rotate that session meanwhile and then let the request finish (and write back).
import type { SessionStore, StoredSession } from '../../src/session/session-store';

export interface HeldLoad {
  /** Resolves once the held request has loaded its session. */
  loaded: Promise<void>;
  /** Lets the held request go on. */
  release(): void;
}

/** The next load of `cookie` through `store` waits for `release()` after reading the row. */
export function holdNextLoad(store: SessionStore, cookie: string): HeldLoad {
  const original = store.load.bind(store);
  let signalLoaded!: () => void;
  let release!: () => void;
  const loaded = new Promise<void>((r) => (signalLoaded = r));
  const gate = new Promise<void>((r) => (release = r));
  let armed = true;
  store.load = async (c: string): Promise<StoredSession | undefined> => {
    const s = await original(c);
    if (!armed || c !== cookie) return s;
    armed = false;
    store.load = original;
    signalLoaded();
    await gate;
    return s;
  };
  return { loaded, release };
}
