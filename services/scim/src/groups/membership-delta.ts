import type { PoolClient } from 'pg';
import { rows } from '../db/sql';
import { ScimError } from '../scim/scim-error';
import type { MemberAction } from './member-ops';

/** Net membership delta of a request: ids added and removed, each at most once. */
export class MembershipDelta {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();

  add(ids: string[]): void {
    for (const id of ids) if (!this.removed.delete(id)) this.added.add(id);
  }
  remove(ids: string[]): void {
    for (const id of ids) if (!this.added.delete(id)) this.removed.add(id);
  }
  get empty(): boolean {
    return this.added.size === 0 && this.removed.size === 0;
  }
}

const CHUNK = 5000;

async function reportMissing(c: PoolClient, directoryId: string, ids: string[]): Promise<never> {
  const found = new Set(
    (
      await rows<{ id: string }>(
        c,
        'SELECT id FROM scim_users WHERE directory_id = $1 AND id = ANY($2::text[])',
        [directoryId, ids],
      )
    ).map((r) => r.id),
  );
  const missing = ids.filter((id) => !found.has(id));
  throw ScimError.invalidValue(
    `Unknown member id(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
  );
}

/** Applies membership actions in order inside the group's transaction, touching only the rows named. */
export async function applyMemberActions(
  c: PoolClient,
  directoryId: string,
  groupId: string,
  actions: MemberAction[],
  delta: MembershipDelta,
): Promise<void> {
  for (const a of actions) {
    if (a.kind === 'removeAll') {
      const gone = await rows<{ user_id: string }>(
        c,
        'DELETE FROM scim_memberships WHERE group_id = $1 RETURNING user_id',
        [groupId],
      );
      delta.remove(gone.map((r) => r.user_id));
    } else if (a.kind === 'remove') {
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        const gone = await rows<{ user_id: string }>(
          c,
          'DELETE FROM scim_memberships WHERE group_id = $1 AND user_id = ANY($2::text[]) RETURNING user_id',
          [groupId, part],
        );
        delta.remove(gone.map((r) => r.user_id));
      }
    } else if (a.ids.length) {
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        // Only users of this directory qualify; the count of those found tells whether any id was unknown
        // (then the whole request fails and the transaction rolls the insert back).
        const [r] = await rows<{ found: number; added: string[] }>(
          c,
          `WITH found AS (SELECT id FROM scim_users WHERE directory_id = $2 AND id = ANY($3::text[])),
                ins AS (INSERT INTO scim_memberships (group_id, user_id) SELECT $1, id FROM found ON CONFLICT DO NOTHING RETURNING user_id)
           SELECT (SELECT count(*) FROM found)::int AS found, coalesce((SELECT array_agg(user_id) FROM ins), '{}') AS added`,
          [groupId, directoryId, part],
        );
        if (r.found !== part.length) await reportMissing(c, directoryId, part);
        delta.add(r.added);
      }
    }
  }
}
