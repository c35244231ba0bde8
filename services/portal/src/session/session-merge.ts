// Three-way merge of a session's data, for a write back that lost the compare-and-set: another
// request of the same session wrote first. What this request changed (against the version it
// loaded) is applied over the latest version; what it left alone keeps the other request's value.
import { limitPending, MAX_PENDING, type SessionData } from './session-data';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function mergeRecord<T>(
  base: Record<string, T>,
  ours: Record<string, T>,
  theirs: Record<string, T>,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)])) {
    const changedHere = !same(ours[key], base[key]);
    const changedThere = !same(theirs[key], base[key]);
    // Both changed it: this request removed (used up) the value it loaded, while the other one put
    // a new value there that this request never saw (a newer flash or kept rows): that one stays.
    const value =
      !changedHere || (changedThere && ours[key] === undefined) ? theirs[key] : ours[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * `base`: the data this request loaded; `ours`: what it made of it; `theirs`: the row now.
 * Field by field (and authorization request by request, keyed by `state`): a field this request
 * changed takes its value, any other field the latest one. So a step-up completed in one tab (its
 * `state` used up, the flash set) and a form saved in another (a new `state` added) both stay.
 * A sign-out by either request wins over any change of the other to the user or its tokens.
 */
export function mergeSession(
  base: SessionData,
  ours: SessionData,
  theirs: SessionData,
): SessionData {
  const { pending: bp, ...b } = base;
  const { pending: op, ...o } = ours;
  const { pending: tp, ...t } = theirs;
  const fields = mergeRecord<unknown>(b, o, t) as Omit<SessionData, 'pending'>;
  if (base.user && (!ours.user || !theirs.user)) {
    fields.user = undefined;
    fields.msalCache = undefined;
    fields.pendingWrite = undefined;
    fields.restoredWrites = undefined;
    fields.profileDraft = undefined;
  }
  // Each request kept within the limits of requests in flight; together they may not.
  const pending = limitPending(mergeRecord(bp, op, tp), MAX_PENDING);
  return { ...fields, pending };
}

/**
 * A sign-in's rotation replaces the session whole with `ours`, but an authorization request that
 * another request of the old session used up meanwhile (in `base`, gone from `theirs`) stays used
 * up: its state is single use.
 */
export function withoutUsedUp(
  base: SessionData,
  ours: SessionData,
  theirs: SessionData,
): SessionData {
  const pending = Object.fromEntries(
    Object.entries(ours.pending).filter(
      ([state]) => !(Object.hasOwn(base.pending, state) && !Object.hasOwn(theirs.pending, state)),
    ),
  );
  return { ...ours, pending };
}
